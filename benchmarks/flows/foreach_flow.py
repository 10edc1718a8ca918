from orchestrator import FlowSpec, Parameter, step


class ForeachBenchFlow(FlowSpec):
    """A foreach over N trivial tasks: fan-out, scheduling and join overhead."""

    n = Parameter("n", default=100)

    @step
    def start(self):
        self.items = list(range(self.n))
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.square = self.input * self.input
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.square for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ForeachBenchFlow()
