"""A foreach of n tasks: on Slurm, one job array."""

import os

from orchestrator import FlowSpec, Parameter, step


class SlurmFanoutFlow(FlowSpec):
    n = Parameter("n", default=6, type=int)

    @step
    def start(self):
        self.items = list(range(self.n))
        self.next(self.square, foreach="items")

    @step
    def square(self):
        self.value = self.input * self.input
        self.job = os.environ.get("ORCH_SLURM_JOB_ID")
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.value for i in inputs)
        self.jobs = sorted(i.job for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        print("total", self.total)


if __name__ == "__main__":
    SlurmFanoutFlow()
