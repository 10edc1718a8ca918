from orchestrator import FlowSpec, pypi, step


class MissingPackageFlow(FlowSpec):
    @pypi(python="3.11", packages={"no-such-package-orch": "1.0"})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MissingPackageFlow()
