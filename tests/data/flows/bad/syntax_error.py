from orchestrator import FlowSpec, step


class SyntaxFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end
    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 7: Syntax error: '(' was never closed. Fix the Python syntax.
