"""Parameters and class-level constants: read-only in steps, passed down as artifacts, and named by
current.parameter_names; merge_artifacts sets nothing when it meets a conflict."""

from orchestrator import FlowSpec, Parameter, current, step


class DiffConstantsFlow(FlowSpec):
    alpha = Parameter("alpha", default=0.5)
    beta = Parameter("beta", default="b")
    LIMIT = 10
    labels = ["x", "y"]

    @step
    def start(self):
        self.param_names = list(current.parameter_names)
        self.assigned = []
        for name, value in (("alpha", 1.0), ("LIMIT", 11), ("fresh", 1)):
            try:
                setattr(self, name, value)
                self.assigned.append((name, "assigned"))
            except AttributeError as err:
                self.assigned.append((name, str(err)))
        self.next(self.a, self.b)

    @step
    def a(self):
        self.x = 1
        self.shared = "same"
        self.next(self.join)

    @step
    def b(self):
        self.x = 2
        self.shared = "same"
        self.next(self.join)

    @step
    def join(self, inputs):
        try:
            self.merge_artifacts(inputs)
            self.conflict_raised = False
        except Exception:
            self.conflict_raised = True
        self.shared_set_by_failed_merge = "shared" in self.__dict__
        self.x = 0
        self.merge_artifacts(inputs)
        self.next(self.end)

    @step
    def end(self):
        self.seen = (self.LIMIT, list(self.labels), self.alpha, self.beta, self.shared, self.x)


if __name__ == "__main__":
    DiffConstantsFlow()
