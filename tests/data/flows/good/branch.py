from orchestrator import FlowSpec, step


class BranchFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b, self.c)

    @step
    def a(self):
        self.x = 1
        self.next(self.join)

    @step
    def b(self):
        self.x = 2
        self.next(self.join)

    @step
    def c(self):
        self.x = 3
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.x for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


# step: start split -> a,b,c join=join
# step: a linear -> join parents=start
# step: b linear -> join parents=start
# step: c linear -> join parents=start
# step: join join -> end parents=start
# step: end end ->
