from orchestrator import FlowSpec, IncludeFile, JSONType, Parameter, step


class DiffParamsFlow(FlowSpec):
    alpha = Parameter("alpha", default=0.5)
    count = Parameter("count", default=3)
    label = Parameter("label", required=True)
    flag = Parameter("flag", default=False)
    config = Parameter("config", type=JSONType, default='{"k": [1, 2]}')
    text = IncludeFile("text")

    @step
    def start(self):
        self.seen = [self.alpha, self.count, self.label, self.flag, self.config, self.text]
        self.x = 1
        self.next(self.middle)

    @step
    def middle(self):
        self.x += self.count
        self.next(self.end)

    @step
    def end(self):
        self.final = (self.x, self.alpha * 2)


if __name__ == "__main__":
    DiffParamsFlow()
