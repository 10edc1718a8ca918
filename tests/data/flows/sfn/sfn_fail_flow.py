from orchestrator import FlowSpec, step


class SfnFailFlow(FlowSpec):
    """A step that fails in production; the test mends it, then resumes the run here."""

    @step
    def start(self):
        self.prepared = 41
        self.next(self.work)

    @step
    def work(self):
        raise RuntimeError("the model blew up")
        self.answer = self.prepared + 1
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SfnFailFlow()
