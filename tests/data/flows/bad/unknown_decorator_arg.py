from orchestrator import FlowSpec, retry, step


class BadRetryFlow(FlowSpec):
    # a comment so the decorator line differs from the def line



    @retry(tiems=2)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 9: @retry on step 'start' got an unknown argument 'tiems'. Valid arguments are: times, minutes_between_retries.
