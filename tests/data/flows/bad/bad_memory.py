from orchestrator import FlowSpec, resources, step


class BadMemoryFlow(FlowSpec):
    @resources(memory="lots")
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 5: @resources on step 'start': memory='lots' is not a size: give megabytes as a number, e.g. memory=4096 or '4GB'.
