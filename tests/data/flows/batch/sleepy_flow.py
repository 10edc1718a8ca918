import time

from orchestrator import FlowSpec, step


class SleepyBatchFlow(FlowSpec):
    """A step that runs long enough to be stopped with Ctrl-C."""

    @step
    def start(self):
        print("sleeping", flush=True)
        time.sleep(120)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SleepyBatchFlow()
