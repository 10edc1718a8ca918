from orchestrator import FlowSpec, Parameter, current, retry, step


class SfnForeachFlow(FlowSpec):
    """A parameter, a foreach of five and its join, a static split and its join."""

    alpha = Parameter("alpha", type=int, default=2)

    @step
    def start(self):
        self.items = list(range(5))
        self.started_by = current.trigger
        self.next(self.square, foreach="items")

    @step
    def square(self):
        self.value = self.input * self.input * self.alpha
        self.task_seen = current.task_id
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.total = sum(i.value for i in inputs)
        self.seen = sorted(i.task_seen for i in inputs)
        self.next(self.fork)

    @step
    def fork(self):
        self.next(self.left, self.right)

    @retry(times=1)
    @step
    def left(self):
        if current.retry_count == 0:
            raise RuntimeError("a flaky first attempt")
        self.side = "left"
        self.left_attempt = current.retry_count
        self.next(self.meet)

    @step
    def right(self):
        self.side = "right"
        self.next(self.meet)

    @step
    def meet(self, inputs):
        self.sides = [i.side for i in inputs]
        self.left_attempt = inputs.left.left_attempt
        self.total = inputs[0].total
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SfnForeachFlow()
