from orchestrator import FlowSpec, Parameter, pypi_base, step


@pypi_base(python="3.11", packages={"numpy": "1.26.4"})
class BigArrayEnvFlow(FlowSpec):
    """The 200 MB artifact flow with numpy pinned in a PyPI env, so it runs the same in containers and locally."""

    mb = Parameter("mb", default=200)

    @step
    def start(self):
        import numpy as np

        self.array = np.random.default_rng(0).random(self.mb * 1024 * 1024 // 8)
        self.next(self.read)

    @step
    def read(self):
        self.checksum = float(self.array[::4096].sum())
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BigArrayEnvFlow()
