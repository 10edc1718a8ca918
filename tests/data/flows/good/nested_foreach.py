from orchestrator import FlowSpec, step


class NestedForeachFlow(FlowSpec):
    @step
    def start(self):
        self.rows = ["a", "b"]
        self.next(self.outer, foreach="rows")

    @step
    def outer(self):
        self.row = self.input
        self.cols = [1, 2, 3]
        self.next(self.inner, foreach="cols")

    @step
    def inner(self):
        self.cell = "%s%d" % (self.row, self.input)
        self.next(self.inner_join)

    @step
    def inner_join(self, inputs):
        self.cells = [i.cell for i in inputs]
        self.next(self.outer_join)

    @step
    def outer_join(self, inputs):
        self.grid = [i.cells for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        pass


# step: start foreach -> outer foreach=rows join=outer_join
# step: outer foreach -> inner foreach=cols parents=start join=inner_join
# step: inner linear -> inner_join parents=start,outer
# step: inner_join join -> outer_join parents=start,outer
# step: outer_join join -> end parents=start
# step: end end ->
