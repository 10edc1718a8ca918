from orchestrator import FlowSpec, step


class EndNextFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        self.next(self.start)

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 11: The end step must not call self.next(). Remove the call.
# expect: 11: There is a loop in your flow: start->end->start. Break the loop by fixing self.next() transitions.
