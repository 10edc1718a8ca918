"""A step that segfaults after printing: its log keeps what it printed and says it was a segfault."""

from orchestrator import FlowSpec, step


class SegfaultFlow(FlowSpec):
    @step
    def start(self):
        import ctypes

        print("Crash and burn!", flush=True)
        ctypes.string_at(0)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SegfaultFlow()
