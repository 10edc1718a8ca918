from orchestrator import FlowSpec, step


class StringNextFlow(FlowSpec):
    @step
    def start(self):
        self.next("end")

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 7: Step 'start' passes 'end' to self.next(); it takes steps. Write the target as an attribute of self, e.g. self.next(self.end).
# expect: 10: Step 'end' is unreachable from the start step. Add self.next(self.end) in another step or remove 'end'.
