from orchestrator import FlowSpec, step


class NoEndFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 4: Flow NoEndFlow has no 'end' step. Add a step '@step def end(self):'.
# expect: 7: Step 'start' transitions to an unknown step 'end'. Define it as a @step method.
