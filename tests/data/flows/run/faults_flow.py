import os
import time

from orchestrator import FlowSpec, Parameter, catch, current, retry, step, timeout


class FaultsFlow(FlowSpec):
    mode = Parameter("mode", default="ok")

    @step
    def start(self):
        self.next(self.flaky, self.doomed, self.slow)

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
        if self.mode == "ok":
            time.sleep(30)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.flaky_attempt = inputs.flaky.attempts_seen
        self.doomed_failure = inputs.doomed.doomed_failure
        self.slow_failure = inputs.slow.slow_failure
        self.pid = os.getpid()
        self.n_inputs = len(inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    FaultsFlow()
