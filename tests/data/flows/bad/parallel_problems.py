from orchestrator import FlowSpec, parallel, step


class ParallelProblemsFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.train, num_parallel=2)

    @step
    def train(self):
        self.next(self.gang)

    @parallel
    @step
    def gang(self):
        self.next(self.end)

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 7: Step 'train' is called with self.next(num_parallel=...) but does not have a @parallel decorator. Add @parallel above @step on 'train'.
# expect: 15: Step 'gang' has a @parallel decorator, but is not called with self.next(num_parallel=...) from step 'train'. Write self.next(self.gang, num_parallel=N) in 'train'.
# expect: 15: A @parallel step should be followed by a join step; step 'end' is not. Make the step after 'gang' a join: 'def end(self, inputs):'.
# expect: 7: The foreach at step 'start' is never joined: step end is reached first. Add a join step ('def join(self, inputs):') before end.
