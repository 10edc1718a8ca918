"""@parallel with num_parallel: a gang of tasks that start together, each knowing its place."""

from orchestrator import FlowSpec, current, parallel, step


class DiffParallelFlow(FlowSpec):
    @step
    def start(self):
        self.nodes = 3
        self.next(self.train, num_parallel=3)

    @parallel
    @step
    def train(self):
        self.node_index = current.parallel.node_index
        self.num_nodes = current.parallel.num_nodes
        self.my_input = self.input
        self.is_parallel = current.is_parallel
        self.next(self.join)

    @step
    def join(self, inputs):
        self.indices = sorted(i.node_index for i in inputs)
        self.sizes = sorted({i.num_nodes for i in inputs})
        self.inputs_seen = sorted(i.my_input for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    DiffParallelFlow()
