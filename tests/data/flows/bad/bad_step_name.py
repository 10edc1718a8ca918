from orchestrator import FlowSpec, step


class BadNameFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.Train)

    @step
    def Train(self):
        self.next(self.end)

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 10: Step name 'Train' is invalid. Use lowercase letters, digits and underscores, starting with a letter.
