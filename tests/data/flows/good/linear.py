from orchestrator import FlowSpec, step


class LinearShapeFlow(FlowSpec):
    @step
    def start(self):
        self.x = 1
        self.next(self.a)

    @step
    def a(self):
        self.next(self.b)

    @step
    def b(self):
        self.next(self.end)

    @step
    def end(self):
        pass


# Expected graph, checked by tests/unit/graph/test_shapes.py:
# step: start start -> a
# step: a linear -> b
# step: b linear -> end
# step: end end ->
