from orchestrator import FlowSpec, step


class MissingDecoratorFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.helper)

    def helper(self):
        self.next(self.end)

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 7: Step 'start' transitions to an unknown step 'helper'. Method 'helper' exists but is not a step: add @step above it.
# expect: 13: Step 'end' is unreachable from the start step. Add self.next(self.end) in another step or remove 'end'.
