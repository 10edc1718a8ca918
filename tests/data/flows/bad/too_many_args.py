from orchestrator import FlowSpec, step


class TooManyArgsFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.middle)

    @step
    def middle(self, a, b):
        self.next(self.end)

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 10: Step 'middle' has too many arguments. Steps take only 'self'; join steps take 'self' and 'inputs'.
