from orchestrator import FlowSpec, step


class ForeachNotStringFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.work, foreach=self.items)

    @step
    def work(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 8: Step 'start' gives foreach=self.items; foreach must name an artifact as a string. Store the list in an artifact and name it, e.g. self.items = [...]; self.next(self.work, foreach='items').
