import threading

from orchestrator import FlowSpec, Parameter, step


class BadRuntimeFlow(FlowSpec):
    what = Parameter("what", default="none")

    @step
    def start(self):
        if self.what == "unpicklable":
            self.lock = threading.Lock()
        self.items = 5 if self.what == "not-iterable" else list(range(150 if self.what == "too-many" else 2))
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BadRuntimeFlow()
