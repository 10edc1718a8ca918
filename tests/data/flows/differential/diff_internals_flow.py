"""Metaflow's private attributes that flows and notebooks in the wild read: self._current_step,
self._foreach_stack (frames with .step, .var, .num_splits, .index, .value), self._graph and
iterating the flow's steps."""

from orchestrator import FlowSpec, step


class DiffInternalsFlow(FlowSpec):
    @step
    def start(self):
        self.rows = ["a", "b"]
        self.seen = self._describe()
        self.next(self.outer, foreach="rows")

    @step
    def outer(self):
        self.cols = [1, 2, 3]
        self.next(self.inner, foreach="cols")

    @step
    def inner(self):
        self.seen = self._describe()
        self.next(self.inner_join)

    @step
    def inner_join(self, inputs):
        self.seen = self._describe()
        self.next(self.outer_join)

    @step
    def outer_join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        self.seen = self._describe()

    def _describe(self):
        node = self._graph[self._current_step]
        return {
            "step": self._current_step,
            "frames": [(f.step, f.var, f.num_splits, f.index, f.value) for f in self._foreach_stack],
            "type": str(node.type),
            "out_funcs": list(node.out_funcs),
            "in_funcs": sorted(node.in_funcs),
            "steps": [s.name for s in self],
        }


if __name__ == "__main__":
    DiffInternalsFlow()
