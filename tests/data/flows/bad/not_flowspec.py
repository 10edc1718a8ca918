from orchestrator import step


class NotAFlow:
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 4: Class NotAFlow has @step methods but does not inherit from FlowSpec. Declare it as 'class NotAFlow(FlowSpec):'.
