from orchestrator import FlowSpec, Parameter, step


class ParamReservedAttrFlow(FlowSpec):
    input = Parameter("input_path", default="x")

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 5: Parameter attribute 'input' is reserved by FlowSpec. Rename the attribute.
