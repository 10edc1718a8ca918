from orchestrator import FlowSpec, step


class BranchInForeachFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.fan, foreach="items")

    @step
    def fan(self):
        self.next(self.left, self.right)

    @step
    def left(self):
        self.v = self.input
        self.next(self.merge)

    @step
    def right(self):
        self.v = -self.input
        self.next(self.merge)

    @step
    def merge(self, inputs):
        self.pair = [i.v for i in inputs]
        self.next(self.collect)

    @step
    def collect(self, inputs):
        self.pairs = [i.pair for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        pass


# step: start foreach -> fan foreach=items join=collect
# step: fan split -> left,right parents=start join=merge
# step: left linear -> merge parents=start,fan
# step: right linear -> merge parents=start,fan
# step: merge join -> collect parents=start,fan
# step: collect join -> end parents=start
# step: end end ->
