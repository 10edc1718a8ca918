from orchestrator import FlowSpec, step


class SfnForeach5Flow(FlowSpec):
    """A foreach of five trivial tasks: eight Batch jobs in all."""

    @step
    def start(self):
        self.items = list(range(5))
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.value = self.input * 2
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.value for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SfnForeach5Flow()
