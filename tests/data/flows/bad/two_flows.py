from orchestrator import FlowSpec, step


class FirstFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass



class SecondFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 15: {file} defines 2 flows: FirstFlow (line 4), SecondFlow (line 15). Put each flow in its own file.
