"""@timeout and an out-of-memory kill on Slurm, each retried once by @retry and then caught by @catch."""

import time

from orchestrator import FlowSpec, catch, resources, retry, step, timeout


def _said(failure):
    return "%s: %s" % (failure.type, failure.exception.splitlines()[0])


class SlurmFaultsFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.too_slow, self.too_big)

    @catch(var="slow_failure")
    @retry(times=1, minutes_between_retries=0)
    @timeout(seconds=5)
    @step
    def too_slow(self):
        time.sleep(120)
        self.next(self.join)

    @catch(var="big_failure")
    @retry(times=1, minutes_between_retries=0)
    @resources(memory=128)
    @step
    def too_big(self):
        self.blob = b"x" * (600 * 2**20)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.slow_failure = _said(inputs.too_slow.slow_failure)
        self.big_failure = _said(inputs.too_big.big_failure)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SlurmFaultsFlow()
