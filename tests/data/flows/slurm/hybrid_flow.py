"""Only the middle step runs on Slurm (@slurm); start and end run on this machine."""

import os
import socket

from orchestrator import FlowSpec, slurm, step


class SlurmHybridFlow(FlowSpec):
    @step
    def start(self):
        self.where = {"start": os.environ.get("SLURM_JOB_ID")}
        self.next(self.crunch)

    @slurm(cpu=1, memory=300)
    @step
    def crunch(self):
        self.where = dict(self.where, crunch=os.environ.get("SLURM_JOB_ID"))
        self.host = socket.gethostname()
        self.uid = os.getuid()
        print("crunching on Slurm job", os.environ.get("SLURM_JOB_ID"))
        self.next(self.end)

    @step
    def end(self):
        self.where = dict(self.where, end=os.environ.get("SLURM_JOB_ID"))


if __name__ == "__main__":
    SlurmHybridFlow()
