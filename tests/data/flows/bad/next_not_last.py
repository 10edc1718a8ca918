from orchestrator import FlowSpec, step


class NextNotLastFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)
        self.x = 1

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 7: Step 'start' calls self.next() before its last statement. A step ends with exactly one self.next(); make it the last line and remove the others.
# expect: 11: Step 'end' is unreachable from the start step. Add self.next(self.end) in another step or remove 'end'.
