"""Recursion through a switch: a case leads back to an earlier step, three rounds, then on.
FAIL_AT=N makes round N fail once, for resume; --mode picks a switch case (a bad one fails)."""

import os

from orchestrator import FlowSpec, Parameter, step


class RecursionFlow(FlowSpec):
    mode = Parameter("mode", default="count")

    @step
    def start(self):
        self.round = 0
        self.next({"count": self.body, "skip": self.end}, condition="mode")

    @step
    def body(self):
        self.round += 1
        self.next(self.check)

    @step
    def check(self):
        if str(self.round) == os.environ.get("FAIL_AT"):
            raise RuntimeError("round %d fails" % self.round)
        self.again = self.round < 3
        self.next({True: self.body, False: self.end}, condition="again")

    @step
    def end(self):
        self.rounds = self.round


if __name__ == "__main__":
    RecursionFlow()
