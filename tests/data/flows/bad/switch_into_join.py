from orchestrator import FlowSpec, step


class SwitchIntoJoinFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.left, self.right)

    @step
    def left(self):
        self.mode = "x"
        self.next({"x": self.join, "y": self.other}, condition="mode")

    @step
    def other(self):
        self.next(self.join)

    @step
    def right(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 23: A conditional path cannot lead directly to a join step: switch step(s) left lead to join 'join'. Add an unconditional step on that path before the join.
