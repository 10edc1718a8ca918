from orchestrator import FlowSpec, step


class JoinSplitFlow(FlowSpec):
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
    def join(self, inputs):
        self.next(self.c, self.d)

    @step
    def c(self):
        self.next(self.end)

    @step
    def d(self):
        self.next(self.end)

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 18: Step 'join' is both a join (it takes inputs) and a split (it transitions to several steps). Add a new step so that the join and the split are separate steps.
