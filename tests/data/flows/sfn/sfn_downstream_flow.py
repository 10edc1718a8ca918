from orchestrator import FlowSpec, current, step, trigger_on_finish


@trigger_on_finish(flow="SfnUpstreamFlow")
class SfnDownstreamFlow(FlowSpec):
    @step
    def start(self):
        upstream = current.trigger.run
        self.upstream = upstream.pathspec
        self.table = upstream.data.table
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SfnDownstreamFlow()
