from orchestrator import FlowSpec, step


class EndJoinFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.next(self.end)

    @step
    def b(self):
        self.next(self.end)

    @step
    def end(self, inputs):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 7: The split at step 'start' is never joined: step end is reached first. Add a join step ('def join(self, inputs):') before end.
# expect: 18: The end step cannot be a join: it must not take 'inputs'. Declare it as 'def end(self):' and add a join step before it.
