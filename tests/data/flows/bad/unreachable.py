from orchestrator import FlowSpec, step


class UnreachableFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def orphan(self):
        self.next(self.end)

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 10: Step 'orphan' is unreachable from the start step. Add self.next(self.orphan) in another step or remove 'orphan'.
