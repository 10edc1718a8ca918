from orchestrator import FlowSpec, step


class WrongJoinFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.next(self.a1, self.a2)

    @step
    def a1(self):
        self.next(self.join)

    @step
    def a2(self):
        self.next(self.join)

    @step
    def b(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 7: The split at step 'start' is never joined: step end is reached first. Add a join step ('def join(self, inputs):') before end.
# expect: 26: Step 'join' joins 3 branch(es) (a1, a2, b), but the split at step 'a' opened 2 (a1, a2). Make every branch of 'a' end in self.next(self.join), and join nested splits first.
