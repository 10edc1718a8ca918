from orchestrator import FlowSpec, conda, step


class BadLockfileFlow(FlowSpec):
    @conda(lockfile="broken.conda-lock.yml")
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BadLockfileFlow()
