from orchestrator import FlowSpec, step


class JoinNoInputsFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.next(self.join)

    @step
    def b(self):
        self.next(self.join)

    @step
    def join(self):
        self.next(self.end)

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 7: The split at step 'start' is never joined: step end is reached first. Add a join step ('def join(self, inputs):') before end.
# expect: 18: Step 'join' is reached from several steps (a, b) but does not take 'inputs'. Declare it as 'def join(self, inputs):' to join the branches.
