from orchestrator import FlowSpec, Parameter, catch, step


class SemanticsFlow(FlowSpec):
    """Failure, @catch, click keywords on a Parameter: what notebooks read afterwards."""

    sizes = Parameter("sizes", multiple=True, type=int, default=[1, 2], show_default=True)
    label = Parameter("label", default="x", help="a label", show_default=False)

    @step
    def start(self):
        self.items = list(self.sizes)
        print("starting with", self.items)
        self.next(self.risky, self.safe)

    @catch(var="problem", print_exception=False)
    @step
    def risky(self):
        self.before = "set before the failure"
        if self.label == "x":
            raise ValueError("risky failed")
        self.next(self.join)

    @step
    def safe(self):
        self.value = sum(self.items)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.caught_type = type(inputs.risky.problem).__name__
        self.merge_artifacts(inputs, exclude=["problem"])
        self.next(self.end)

    @step
    def end(self):
        self.partial = "end ran"
        raise RuntimeError("end failed on purpose")


if __name__ == "__main__":
    SemanticsFlow()
