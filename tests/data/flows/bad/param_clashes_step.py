from orchestrator import FlowSpec, Parameter, step


class ParamClashFlow(FlowSpec):
    train = Parameter("train", default=1)

    @step
    def start(self):
        self.next(self.train)

    @step
    def train(self):
        self.next(self.end)

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 5: Parameter 'train' has the same name as step 'train'. Rename the parameter or the step.
