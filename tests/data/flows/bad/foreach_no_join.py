from orchestrator import FlowSpec, step


class ForeachNoJoinFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.next(self.end)

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 8: The foreach at step 'start' is never joined: step end is reached first. Add a join step ('def join(self, inputs):') before end.
