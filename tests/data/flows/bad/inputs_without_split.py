from orchestrator import FlowSpec, step


class InputsNoSplitFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.middle)

    @step
    def middle(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 10: Step 'middle' takes an 'inputs' argument but is not preceded by a split. Remove 'inputs' if it is not a join, or split upstream with self.next(self.a, self.b).
