import os

from orchestrator import FlowSpec, Parameter, step


class BigWriteFlow(FlowSpec):
    """One artifact of --mb megabytes of random bytes (incompressible, so it is written as is)."""

    mb = Parameter("mb", default=200)

    @step
    def start(self):
        self.blob = os.urandom(self.mb * 1024 * 1024)
        self.small = "ok"
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BigWriteFlow()
