"""Written by orch 0.1.0 before the backend registry (record schema 2, with batch_job_id): a fixture that later versions read."""

from orchestrator import FlowSpec, Parameter, catch, retry, step, timeout


class CompatFlow(FlowSpec):
    alpha = Parameter("alpha", default=0.5)
    fail = Parameter("fail", default=False)

    @step
    def start(self):
        self.items = ["a", "b"]
        self.next(self.each, foreach="items")

    @retry(times=1, minutes_between_retries=0)
    @step
    def each(self):
        self.value = "%s-%s" % (self.input, self.alpha)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.values = sorted(i.value for i in inputs)
        self.next(self.slow)

    @catch(var="slow_failed")
    @timeout(seconds=1)
    @step
    def slow(self):
        import time

        if self.fail:
            time.sleep(30)
        self.next(self.end)

    @step
    def end(self):
        if self.fail:
            raise ValueError("asked to fail")
        print("done", self.values)


if __name__ == "__main__":
    CompatFlow()
