from orchestrator import FlowSpec, IncludeFile, JSONType, Parameter, step


class BadParamsFlow(FlowSpec):
    alpha = Parameter("alpha", type=int, default=1)
    ratio = Parameter("ratio", type=float, default=0.5)
    flag = Parameter("flag", type=bool, default=False)
    config = Parameter("config", type=JSONType, default="{}")
    who = Parameter("who", required=True)
    data = IncludeFile("data", required=False)

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BadParamsFlow()
