from orchestrator import FlowSpec, step


class ConditionalFlow(FlowSpec):
    @step
    def start(self):
        if True:
            self.next(self.a)
        else:
            self.next(self.end)

    @step
    def a(self):
        self.next(self.end)

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 8: Step 'start' calls self.next() before its last statement. A step ends with exactly one self.next(); make it the last line and remove the others.
# expect: 10: Step 'start' calls self.next() before its last statement. A step ends with exactly one self.next(); make it the last line and remove the others.
# expect: 13: Step 'a' is unreachable from the start step. Add self.next(self.a) in another step or remove 'a'.
# expect: 17: Step 'end' is unreachable from the start step. Add self.next(self.end) in another step or remove 'end'.
