import time

from orchestrator import FlowSpec, Parameter, current, retry, step


class SlowRetryFlow(FlowSpec):
    """A step whose first attempt runs long enough to be killed from outside; retries finish quickly."""

    seconds = Parameter("seconds", default=30)

    @step
    def start(self):
        self.next(self.slow)

    @retry(times=1, minutes_between_retries=0)
    @step
    def slow(self):
        print("attempt", current.retry_count, flush=True)
        if current.retry_count == 0:
            time.sleep(self.seconds)
        self.finished_on = current.retry_count
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SlowRetryFlow()
