from orchestrator import FlowSpec, Parameter, step


class ParamReservedFlow(FlowSpec):
    tag = Parameter("tag", default="x")

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 5: Parameter name 'tag' is reserved: it is an option of orch run. Choose another name, e.g. 'tag_value'.
