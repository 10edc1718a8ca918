from orchestrator import FlowSpec, step


class NestedFlow(FlowSpec):
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
        self.stack = self.foreach_stack()
        self.idx = self.index
        self.next(self.fan)

    @step
    def fan(self):
        self.next(self.left, self.right)

    @step
    def left(self):
        self.side = "L" + self.cell
        self.next(self.merge)

    @step
    def right(self):
        self.side = "R" + self.cell
        self.next(self.merge)

    @step
    def merge(self, inputs):
        self.cell = inputs.left.cell
        self.sides = sorted(i.side for i in inputs)
        self.next(self.inner_join)

    @step
    def inner_join(self, inputs):
        self.cells = [i.cell for i in inputs]
        self.all_sides = [i.sides for i in inputs]
        self.next(self.outer_join)

    @step
    def outer_join(self, inputs):
        self.grid = [i.cells for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    NestedFlow()
