from orchestrator import FlowSpec, Parameter, current, project, step


@project(name="demo_project")
class SfnProjectFlow(FlowSpec):
    """A flow of a @project: its state machine is named project.branch.Flow."""

    scale = Parameter("scale", type=int, default=1)

    @step
    def start(self):
        self.cols = [0, 1, 2]
        self.next(self.cell, foreach="cols")

    @step
    def cell(self):
        self.value = self.input * self.scale
        self.where = current.task_id
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.values = sorted(i.value for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        self.branch = current.branch_name


if __name__ == "__main__":
    SfnProjectFlow()
