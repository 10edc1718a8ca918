import os
import signal
import time

from orchestrator import FlowSpec, Parameter, catch, current, retry, step, timeout


class FaultsFlow(FlowSpec):
    mode = Parameter("mode", default="ok")

    @step
    def start(self):
        self.next(self.flaky, self.doomed, self.slow, self.stubborn)

    @retry(times=2, minutes_between_retries=0)
    @step
    def flaky(self):
        self.attempts_seen = current.retry_count
        if current.retry_count < 2:
            raise RuntimeError("flaky failure %d" % current.retry_count)
        self.next(self.join)

    @catch(var="doomed_failure")
    @retry(times=1, minutes_between_retries=0)
    @step
    def doomed(self):
        self.tries = current.retry_count
        raise ValueError("always fails")
        self.next(self.join)

    @catch(var="slow_failure", print_exception=False)
    @timeout(seconds=1)
    @step
    def slow(self):
        self.before_timeout = "kept"
        if self.mode == "ok":
            time.sleep(30)
        self.next(self.join)

    @catch(var="stubborn_failure", print_exception=False)
    @timeout(seconds=1)
    @step
    def stubborn(self):
        """Blocks SIGALRM (as C code can), so only the scheduler's kill stops it."""
        if self.mode == "ok":
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
            time.sleep(60)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.flaky_attempt = inputs.flaky.attempts_seen
        self.doomed_failure = inputs.doomed.doomed_failure
        self.slow_failure = inputs.slow.slow_failure
        self.before_timeout = inputs.slow.before_timeout
        self.stubborn_failure = inputs.stubborn.stubborn_failure
        self.pid = os.getpid()
        self.n_inputs = len(inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    FaultsFlow()
