from orchestrator import FlowSpec, step


class CycleFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.a)

    @step
    def a(self):
        self.next(self.b)

    @step
    def b(self):
        self.next(self.a)

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 10: Step 'a' is reached from several steps (start, b) but does not take 'inputs'. Declare it as 'def a(self, inputs):' to join the branches.
# expect: 15: There is a loop in your flow: a->b->a. Break the loop by fixing self.next() transitions.
# expect: 18: Step 'end' is unreachable from the start step. Add self.next(self.end) in another step or remove 'end'.
