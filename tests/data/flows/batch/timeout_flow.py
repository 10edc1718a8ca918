import signal
import time

from orchestrator import FlowSpec, catch, step, timeout


class BatchTimeoutFlow(FlowSpec):
    """A step that outlives its @timeout on Batch (it blocks SIGALRM, as C code can, so it cannot stop
    itself): its job is terminated, @catch records it, its logs survive."""

    @step
    def start(self):
        self.next(self.stuck)

    @catch(var="stopped")
    @timeout(seconds=8)
    @step
    def stuck(self):
        print("before the timeout", flush=True)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(120)
        self.next(self.end)

    @step
    def end(self):
        self.reason = str(self.stopped)


if __name__ == "__main__":
    BatchTimeoutFlow()
