from orchestrator import FlowSpec, step


class TooManySplitsFlow(FlowSpec):
    @step
    def start(self):
        self.items = list(range(5))
        self.next(self.each, foreach="items")

    @step
    def each(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TooManySplitsFlow()
