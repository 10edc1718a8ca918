from orchestrator import FlowSpec, pypi, step


class ConflictEnvFlow(FlowSpec):
    @pypi(python="3.11", packages={"pandas": "1.5.3", "numpy": ">=2.0,<1.26"})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ConflictEnvFlow()
