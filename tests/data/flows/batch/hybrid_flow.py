import os

from orchestrator import FlowSpec, batch, step


class HybridFlow(FlowSpec):
    """Only the middle step runs on AWS Batch; the others run here."""

    @step
    def start(self):
        self.where = [(os.getuid(), os.environ.get("AWS_BATCH_JOB_ID"))]
        self.next(self.heavy)

    @batch(cpu=1, memory=512)
    @step
    def heavy(self):
        self.where = self.where + [(os.getuid(), os.environ.get("AWS_BATCH_JOB_ID"))]
        self.next(self.end)

    @step
    def end(self):
        self.where = self.where + [(os.getuid(), os.environ.get("AWS_BATCH_JOB_ID"))]


if __name__ == "__main__":
    HybridFlow()
