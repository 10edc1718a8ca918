import threading

from orchestrator import FlowSpec, step


class UnpicklableFlow(FlowSpec):
    @step
    def start(self):
        self.lock = threading.Lock()
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    UnpicklableFlow()
