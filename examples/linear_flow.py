"""The first flow of the original Metaflow article, ported by changing its import line."""

from orchestrator import FlowSpec, step


class LinearFlow(FlowSpec):
    """A flow that passes a message from one step to the next."""

    @step
    def start(self):
        """Set a message."""
        self.my_var = "hello world"
        self.next(self.process_message)

    @step
    def process_message(self):
        """Print the message the start step set."""
        print("the data artifact is: %s" % self.my_var)
        self.next(self.end)

    @step
    def end(self):
        """The end of the flow."""
        print("the data artifact is still: %s" % self.my_var)


if __name__ == "__main__":
    LinearFlow()
