import os

from orchestrator import FlowSpec, current, step


class FailingFlow(FlowSpec):
    @step
    def start(self):
        self.items = list(range(4))
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.square = self.input * self.input
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.square for i in inputs)
        self.origin = current.origin_run_id
        if os.path.exists(os.environ.get("FAIL_MARKER", "/nonexistent")):
            raise ZeroDivisionError("the join is broken")
        self.next(self.end)

    @step
    def end(self):
        print("total", self.total)


if __name__ == "__main__":
    FailingFlow()
