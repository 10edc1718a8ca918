from orchestrator import FlowSpec, step


class UnknownStepFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.proces)

    @step
    def process(self):
        self.next(self.end)

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 7: Step 'start' transitions to an unknown step 'proces'. Did you mean self.process?
# expect: 10: Step 'process' is unreachable from the start step. Add self.next(self.process) in another step or remove 'process'.
# expect: 14: Step 'end' is unreachable from the start step. Add self.next(self.end) in another step or remove 'end'.
