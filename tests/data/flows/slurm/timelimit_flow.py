"""A step that outlives its Slurm time limit (@slurm(time=1): one minute), caught by @catch."""

import time

from orchestrator import FlowSpec, catch, slurm, step


class SlurmTimeLimitFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.stuck)

    @catch(var="failure")
    @slurm(time=1)
    @step
    def stuck(self):
        time.sleep(600)
        self.next(self.end)

    @step
    def end(self):
        self.said = self.failure.exception


if __name__ == "__main__":
    SlurmTimeLimitFlow()
