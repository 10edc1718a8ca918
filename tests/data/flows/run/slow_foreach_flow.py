import time

from orchestrator import FlowSpec, Parameter, step


class SlowForeachFlow(FlowSpec):
    n = Parameter("n", default=6)
    pause = Parameter("pause", default=0.3)

    @step
    def start(self):
        self.items = list(range(self.n))
        self.next(self.work, foreach="items")

    @step
    def work(self):
        time.sleep(self.pause)
        self.value = self.input * 2
        self.next(self.join)

    @step
    def join(self, inputs):
        self.values = sorted(i.value for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SlowForeachFlow()
