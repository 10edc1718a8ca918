from orchestrator import FlowSpec, step


class ManyProblemsFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.nowhere)

    @step
    def lonely(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 4: Flow ManyProblemsFlow has no 'end' step. Add a step '@step def end(self):'.
# expect: 7: Step 'start' transitions to an unknown step 'nowhere'. Define it as a @step method.
# expect: 10: Step 'lonely' is missing a self.next() transition to the next step. Add a self.next() as the last line in the function.
# expect: 10: Step 'lonely' is unreachable from the start step. Add self.next(self.lonely) in another step or remove 'lonely'.
