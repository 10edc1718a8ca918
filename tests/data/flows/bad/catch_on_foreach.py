from orchestrator import FlowSpec, catch, step


class CatchForeachFlow(FlowSpec):
    @catch(var="failure")
    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.each, foreach="items")

    @step
    def each(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 7: @catch is defined for the step 'start' but @catch is not supported in foreach split steps. Move the code that may fail into the steps the foreach runs, and put @catch there.
