from orchestrator import FlowSpec, retry, step


class NegativeRetryFlow(FlowSpec):
    @retry(times=-1)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 5: @retry on step 'start': times=-1 is out of range: it must be between 0 and 100.
