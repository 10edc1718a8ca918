from orchestrator import FlowSpec, step

import surely_not_installed_pkg  # noqa: F401


class ImportErrorFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 3: Importing the flow failed with ModuleNotFoundError: No module named 'surely_not_installed_pkg'. Install it on the host, or import it inside the step that uses it.
