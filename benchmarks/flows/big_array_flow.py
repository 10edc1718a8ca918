from orchestrator import FlowSpec, Parameter, step


class BigArrayFlow(FlowSpec):
    """Write a large random array in one step, read it in the next: the artifact path end to end."""

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
    BigArrayFlow()
