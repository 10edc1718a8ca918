from orchestrator import FlowSpec, step


class ForeachFlow(FlowSpec):
    @step
    def start(self):
        self.items = list(range(5))
        self.next(self.square, foreach="items")

    @step
    def square(self):
        self.y = self.input ** 2
        self.next(self.join)

    @step
    def join(self, inputs):
        self.ys = [i.y for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        pass


# step: start foreach -> square foreach=items join=join
# step: square linear -> join parents=start
# step: join join -> end parents=start
# step: end end ->
