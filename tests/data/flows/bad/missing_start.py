from orchestrator import FlowSpec, step


class NoStartFlow(FlowSpec):
    @step
    def begin(self):
        self.next(self.end)

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 4: Flow NoStartFlow has no 'start' step. Add a step '@step def start(self):'.
