from orchestrator import FlowSpec, catch, current, retry, step


class BatchFaultsFlow(FlowSpec):
    """A step that fails once and is retried, and one whose failure @catch records."""

    @step
    def start(self):
        self.next(self.flaky)

    @retry(times=1, minutes_between_retries=0)
    @step
    def flaky(self):
        print("attempt", current.retry_count)
        if current.retry_count == 0:
            raise RuntimeError("first attempt fails on purpose")
        self.recovered_on = current.retry_count
        self.next(self.doomed)

    @catch(var="failure")
    @step
    def doomed(self):
        raise ValueError("this step always fails")
        self.next(self.end)

    @step
    def end(self):
        self.caught = repr(self.failure)


if __name__ == "__main__":
    BatchFaultsFlow()
