from orchestrator import FlowSpec, step


class MissingInBranchFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.score = 1
        self.next(self.join)

    @step
    def b(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = inputs.a.score + inputs.b.score
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MissingInBranchFlow()
