import hashlib
import time

from orchestrator import FlowSpec, Parameter, step


def blob(seed: str, size: int) -> bytes:
    """Deterministic bytes: the same in every run, so artifacts compare by content hash."""
    out, counter = [], 0
    while sum(len(part) for part in out) < size:
        out.append(hashlib.sha256(("%s/%d" % (seed, counter)).encode()).digest() * 64)
        counter += 1
    return b"".join(out)[:size]


class CrashFlow(FlowSpec):
    """Static branches, a foreach of 20 and artifacts from a few bytes to a few megabytes."""

    pause = Parameter("pause", default=0.15)

    @step
    def start(self):
        self.config = {"seed": 7, "labels": ["a", "b"]}
        self.next(self.left, self.right)

    @step
    def left(self):
        time.sleep(self.pause)
        self.big = blob("left", 3 * 1024 * 1024)
        self.next(self.meet)

    @step
    def right(self):
        time.sleep(self.pause)
        self.small = {"answer": 42, "text": "x" * 100}
        self.next(self.meet)

    @step
    def meet(self, inputs):
        self.merge_artifacts(inputs)
        self.next(self.fan)

    @step
    def fan(self):
        self.items = list(range(20))
        self.next(self.work, foreach="items")

    @step
    def work(self):
        time.sleep(self.pause)
        self.square = self.input * self.input
        self.payload = blob("work-%d" % self.input, 64 * 1024 * (1 + self.input % 4))
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.squares = [i.square for i in inputs]
        self.digest = hashlib.sha256(b"".join(i.payload for i in inputs)).hexdigest()
        self.merge_artifacts(inputs, include=["big", "small", "config"])
        self.next(self.end)

    @step
    def end(self):
        self.total = sum(self.squares)


if __name__ == "__main__":
    CrashFlow()
