"""Two pandas versions in one run, from conda: pandas 1.5.3 in the first step, 2.2.3 in the next.

Each step records ``pandas.__version__`` and a result that differs between
the two: in pandas 1.x an Index built with dtype='int32' is still an
int64 Index; pandas 2 keeps int32. Only plain strings cross between steps,
so the final step needs no pandas at all.

    ORCH_CONDA_CHANNELS=file:///path/to/channel orch build-envs conda_flow.py && orch run conda_flow.py

Channels default to conda-forge; set ORCH_CONDA_CHANNELS (or channels=) for a mirror or a local channel.
"""

from orchestrator import FlowSpec, conda, step


class PandasVersionsCondaFlow(FlowSpec):
    @conda(python="3.11", packages={"pandas": "1.5.3", "numpy": "1.26.4"})
    @step
    def start(self):
        """Runs on pandas 1.5.3."""
        import pandas as pd

        self.old = {"version": pd.__version__, "index_dtype": str(pd.Index([1, 2, 3], dtype="int32").dtype)}
        print("pandas %(version)s: Index(dtype='int32') is %(index_dtype)s" % self.old)
        self.next(self.upgrade)

    @conda(python="3.11", packages={"pandas": "2.2.3", "numpy": "2.1.3"})
    @step
    def upgrade(self):
        """Runs on pandas 2.2.3."""
        import pandas as pd

        self.new = {"version": pd.__version__, "index_dtype": str(pd.Index([1, 2, 3], dtype="int32").dtype)}
        print("pandas %(version)s: Index(dtype='int32') is %(index_dtype)s" % self.new)
        self.next(self.end)

    @step
    def end(self):
        """Checks that each step saw its own pandas."""
        assert (self.old["version"], self.new["version"]) == ("1.5.3", "2.2.3"), (self.old, self.new)
        assert (self.old["index_dtype"], self.new["index_dtype"]) == ("int64", "int32"), (self.old, self.new)
        print("one run, two pandas: %s then %s" % (self.old["version"], self.new["version"]))


if __name__ == "__main__":
    PandasVersionsCondaFlow()
