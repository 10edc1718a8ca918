from orchestrator import FlowSpec, step


class BadKeywordFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end, for_each="x")

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 7: self.next() in step 'start' got an unknown argument 'for_each'. self.next() takes steps and an optional foreach='artifact_name' or num_parallel=N, or a dict of steps and condition='artifact_name'.
