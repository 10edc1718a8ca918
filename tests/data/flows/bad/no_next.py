from orchestrator import FlowSpec, step


class NoNextFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.middle)

    @step
    def middle(self):
        self.x = 1

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 10: Step 'middle' is missing a self.next() transition to the next step. Add a self.next() as the last line in the function.
# expect: 14: Step 'end' is unreachable from the start step. Add self.next(self.end) in another step or remove 'end'.
