from orchestrator import FlowSpec, step


class SfnUpstreamFlow(FlowSpec):
    @step
    def start(self):
        self.table = "scores-v2"
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SfnUpstreamFlow()
