import time

from orchestrator import FlowSpec, catch, step, timeout


class BatchTimeoutFlow(FlowSpec):
    """A step stopped by @timeout on Batch: its job is terminated, @catch records it, its logs survive."""

    @step
    def start(self):
        self.next(self.stuck)

    @catch(var="stopped")
    @timeout(seconds=8)
    @step
    def stuck(self):
        print("before the timeout", flush=True)
        time.sleep(120)
        self.next(self.end)

    @step
    def end(self):
        self.reason = str(self.stopped)


if __name__ == "__main__":
    BatchTimeoutFlow()
