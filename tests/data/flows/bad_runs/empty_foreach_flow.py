from orchestrator import FlowSpec, step


class EmptyForeachFlow(FlowSpec):
    @step
    def start(self):
        self.items = []
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
    EmptyForeachFlow()
