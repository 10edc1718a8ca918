from orchestrator import FlowSpec, Parameter, step


class SmallArtifactsFlow(FlowSpec):
    """Many small artifacts across tasks: tasks x per_task artifacts of a few dozen bytes each."""

    tasks = Parameter("tasks", default=100)
    per_task = Parameter("per_task", default=100)

    @step
    def start(self):
        self.items = list(range(self.tasks))
        self.next(self.work, foreach="items")

    @step
    def work(self):
        for i in range(self.per_task):
            setattr(self, "value_%d" % i, {"task": self.input, "i": i, "label": "artifact-%d-%d" % (self.input, i)})
        self.next(self.join)

    @step
    def join(self, inputs):
        self.count = sum(1 for _ in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SmallArtifactsFlow()
