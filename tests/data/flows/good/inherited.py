from orchestrator import FlowSpec, Parameter, step


class BaseFlow(FlowSpec):
    """Shared steps live in a base flow class."""

    scale = Parameter("scale", default=2)

    @step
    def start(self):
        self.next(self.work)

    @step
    def end(self):
        pass


class InheritedFlow(BaseFlow):
    @step
    def work(self):
        self.y = self.scale * 2
        self.next(self.end)


# step: start start -> work
# step: work linear -> end
# step: end end ->
