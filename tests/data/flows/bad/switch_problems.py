from orchestrator import FlowSpec, step


class SwitchProblemsFlow(FlowSpec):
    @step
    def start(self):
        self.mode = "a"
        self.next({"a": self.a, "b": self.b}, condition=self.mode)

    @step
    def a(self):
        self.next({"x": self.end, "y": "b"}, condition="mode")

    @step
    def b(self):
        self.next({"x": self.end, "y": self.a})

    @step
    def end(self):
        pass

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 8: Step 'start' gives condition=self.mode; the condition must name an artifact as a string. Store the value in an artifact and name it, e.g. self.mode = ...; self.next({"a": self.step_a, "b": self.step_b}, condition="mode").
# expect: 12: Switch step 'a' has a case that is not a step: 'y': 'b'. Each case maps a value to a step of the flow, e.g. self.next({"a": self.step_a, "b": self.step_b}, condition="mode").
# expect: 16: Step 'b' passes a dict of steps to self.next() without condition=. Name the artifact whose value picks the step: self.next({"a": self.step_a, "b": self.step_b}, condition="mode").
