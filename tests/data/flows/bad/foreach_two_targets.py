from orchestrator import FlowSpec, step


class ForeachTwoTargetsFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.a, self.b, foreach="items")

    @step
    def a(self):
        self.next(self.join)

    @step
    def b(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 8: Step 'start' is a foreach with 2 target steps; a foreach fans out to exactly one. Write self.next(self.step, foreach='items').
