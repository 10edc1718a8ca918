from orchestrator import FlowSpec, step


class EmptyForeachFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.join, foreach="items")

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 8: Step 'start' is a foreach whose target is the join 'join' itself. Add at least one step between the foreach split and the join.
