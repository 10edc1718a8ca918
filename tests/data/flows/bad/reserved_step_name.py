from orchestrator import FlowSpec, step


class ReservedStepFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.input)

    @step
    def input(self):
        self.next(self.end)

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 10: Step name 'input' is reserved by FlowSpec. Choose another name for the step.
