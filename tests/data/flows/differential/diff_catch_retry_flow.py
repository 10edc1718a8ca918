from orchestrator import FlowSpec, catch, current, retry, step


class DiffCatchRetryFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.flaky, self.doomed)

    @retry(times=2, minutes_between_retries=0)
    @step
    def flaky(self):
        self.attempt_seen = current.retry_count
        if current.retry_count < 2:
            raise RuntimeError("flaky failure")
        self.next(self.join)

    @catch(var="failure")
    @retry(times=1, minutes_between_retries=0)
    @step
    def doomed(self):
        self.before = "set before the error"
        raise ValueError("always fails")
        self.next(self.join)

    @step
    def join(self, inputs):
        self.attempt_seen = inputs.flaky.attempt_seen
        self.failure = inputs.doomed.failure
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    DiffCatchRetryFlow()
