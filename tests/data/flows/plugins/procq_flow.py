import os

from orchestrator import FlowSpec, procq, step  # procq comes from the installed orch-procq plugin


class ProcqFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2, 3]
        self.next(self.square, foreach="items")

    @procq(queue="fast", cpu=2)
    @step
    def square(self):
        self.value = self.input * self.input
        self.slot = os.environ.get("PROCQ_SLOT")
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.value for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        self.queue = os.environ.get("PROCQ_QUEUE")
