from orchestrator import FlowSpec, Parameter, step


class BadDefaultFlow(FlowSpec):
    alpha = Parameter("alpha", type=float, default="abc")

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 5: Parameter 'alpha' has a default that does not fit its type: --alpha: 'abc' is not a valid float.
