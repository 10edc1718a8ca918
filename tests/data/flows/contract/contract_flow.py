"""One step per behaviour the executor contract checks; each task is submitted on its own."""

import os
import sys
import time

from orchestrator import FlowSpec, resources, step


class ContractFlow(FlowSpec):
    @step
    def start(self):
        print("to stdout from %s" % self.__class__.__name__)
        print("to stderr from %s" % self.__class__.__name__, file=sys.stderr)
        self.answer = 42
        self.next(self.fails)

    @step
    def fails(self):
        raise ValueError("contract failure")
        self.next(self.exits)

    @step
    def exits(self):
        sys.stdout.flush()
        os._exit(3)
        self.next(self.sleeps)

    @step
    def sleeps(self):
        print("sleeping", flush=True)
        time.sleep(600)
        self.next(self.hog)

    @resources(memory=64)
    @step
    def hog(self):
        self.blob = b"x" * (600 * 2**20)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ContractFlow()
