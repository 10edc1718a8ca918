from orchestrator import FlowSpec, Parameter, current, project, step


@project(name="nested_demo")
class SfnNestedFlow(FlowSpec):
    """A foreach inside a foreach: nested Maps, each child a task id of two indices."""

    scale = Parameter("scale", type=int, default=1)

    @step
    def start(self):
        self.rows = [0, 1]
        self.next(self.row, foreach="rows")

    @step
    def row(self):
        self.cols = [0, 1, 2]
        self.next(self.cell, foreach="cols")

    @step
    def cell(self):
        self.value = (10 * self.rows[self.foreach_stack()[0][0]] + self.input) * self.scale
        self.where = current.task_id
        self.next(self.row_done)

    @step
    def row_done(self, inputs):
        self.row_values = sorted(i.value for i in inputs)
        self.next(self.all_done)

    @step
    def all_done(self, inputs):
        self.grid = sorted(v for i in inputs for v in i.row_values)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SfnNestedFlow()
