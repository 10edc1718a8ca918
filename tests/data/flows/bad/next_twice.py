from orchestrator import FlowSpec, step


class NextTwiceFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)
        self.next(self.end)

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 7: Step 'start' calls self.next() before its last statement. A step ends with exactly one self.next(); make it the last line and remove the others.
