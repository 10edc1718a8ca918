"""A step that waits for ten minutes on a first run, for tests that stop it: Ctrl-C, scancel, kill -9.
Resumed (``current.origin_run_id``) or retried, it finishes at once."""

import time

from orchestrator import FlowSpec, current, retry, step


class SlurmSlowFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.wait)

    @retry(times=1, minutes_between_retries=0)
    @step
    def wait(self):
        if current.origin_run_id is None and current.retry_count == 0:
            print("waiting to be stopped", flush=True)
            time.sleep(600)
        self.attempt = current.retry_count
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SlurmSlowFlow()
