"""A @parallel gang under @retry and @catch: a member that dies reruns the whole gang; a gang that keeps
dying falls back through its control task, and the join receives the control task only."""

import os
import signal

from orchestrator import FlowSpec, Parameter, catch, current, parallel, retry, step


class ParallelFaultsFlow(FlowSpec):
    mode = Parameter("mode", default="flaky", help="flaky: node 2 dies on its first attempt; dead: all die")

    @step
    def start(self):
        self.next(self.train, num_parallel=3)

    @catch(var="failed")
    @retry(times=1)
    @parallel
    @step
    def train(self):
        self.node = current.parallel.node_index
        self.attempt = current.retry_count
        if self.mode == "dead" or (self.node == 2 and current.retry_count == 0):
            os.kill(os.getpid(), signal.SIGKILL)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.seen = sorted((getattr(i, "node", None), getattr(i, "attempt", None)) for i in inputs)
        self.failures = [str(i.failed.type) for i in inputs if i.failed]
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ParallelFaultsFlow()
