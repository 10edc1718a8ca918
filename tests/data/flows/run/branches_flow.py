from orchestrator import FlowSpec, step


class BranchesFlow(FlowSpec):
    @step
    def start(self):
        self.shared = "same"
        self.next(self.a, self.b)

    @step
    def a(self):
        self.x = "from a"
        self.only_a = 1
        self.next(self.join)

    @step
    def b(self):
        self.x = "from b"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.by_name = (inputs.a.x, inputs.b.x)
        self.order = sorted(i.x for i in inputs)  # Metaflow does not fix the order of static inputs
        self.n = sum(1 for _ in inputs)  # Metaflow's inputs have no len(); orch's do
        self.x = "joined"
        self.merge_artifacts(inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BranchesFlow()
