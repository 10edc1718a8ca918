from orchestrator import FlowSpec, catch, current, retry, step


class DiffCatchRetryFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.flaky, self.doomed, self.fine)

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

    @catch(var="fine_failure")
    @step
    def fine(self):
        """Succeeds: Metaflow sets the catch variable to None, so a join can test it."""
        self.next(self.join)

    @step
    def join(self, inputs):
        self.attempt_seen = inputs.flaky.attempt_seen
        self.failure = inputs.doomed.failure
        self.fine_failure = inputs.fine.fine_failure
        self.failure_type = self.failure.type
        self.failure_text = str(self.failure).splitlines()[-1]
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    DiffCatchRetryFlow()
