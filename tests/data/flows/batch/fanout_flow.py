from orchestrator import FlowSpec, Parameter, step


class BatchFanoutFlow(FlowSpec):
    """A foreach whose children go to AWS Batch as one array job."""

    n = Parameter("n", default=20)

    @step
    def start(self):
        self.items = list(range(self.n))
        self.next(self.square, foreach="items")

    @step
    def square(self):
        import os

        self.job = os.environ.get("AWS_BATCH_JOB_ID")
        self.value = self.input * self.input
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.value for i in inputs)
        self.jobs = sorted(i.job for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        print("total", self.total)


if __name__ == "__main__":
    BatchFanoutFlow()
