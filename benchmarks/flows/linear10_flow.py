from orchestrator import FlowSpec, step


class Linear10Flow(FlowSpec):
    """Ten trivial steps in a line: the per-task overhead of a runtime."""

    @step
    def start(self):
        self.value = 0
        self.next(self.step1)

    @step
    def step1(self):
        self.value = 1
        self.next(self.step2)

    @step
    def step2(self):
        self.value = 2
        self.next(self.step3)

    @step
    def step3(self):
        self.value = 3
        self.next(self.step4)

    @step
    def step4(self):
        self.value = 4
        self.next(self.step5)

    @step
    def step5(self):
        self.value = 5
        self.next(self.step6)

    @step
    def step6(self):
        self.value = 6
        self.next(self.step7)

    @step
    def step7(self):
        self.value = 7
        self.next(self.step8)

    @step
    def step8(self):
        self.value = 8
        self.next(self.end)

    @step
    def end(self):
        self.done = True


if __name__ == "__main__":
    Linear10Flow()
