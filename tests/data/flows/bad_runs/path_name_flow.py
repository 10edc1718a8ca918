from orchestrator import FlowSpec, step


class PathNameFlow(FlowSpec):
    @step
    def start(self):
        setattr(self, "../../etc/passwd", "x")
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    PathNameFlow()
