from orchestrator import FlowSpec, conda, pypi, step


class BothEnvsFlow(FlowSpec):
    @conda(packages={"pandas": "2.2.2"})
    @pypi(packages={"pandas": "2.2.2"})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 8: Step 'start' uses both @conda and @pypi. Choose one: @conda can list pip packages too, @pypi alone installs from PyPI.
