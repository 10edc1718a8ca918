"""Switch steps in every shape Metaflow 2.18+ supports: in a foreach, nested, in a static branch, a
branch and a foreach inside a switch, and recursion (a case back to the switch itself), also inside a foreach."""

from orchestrator import FlowSpec, step


class DiffSwitchFlow(FlowSpec):
    @step
    def start(self):
        self.items = ["a", "b", "a"]
        self.count = 0
        self.next(self.per_item, foreach="items")

    @step
    def per_item(self):
        self.kind = self.input
        self.next({"a": self.handle_a, "b": self.handle_b}, condition="kind")

    @step
    def handle_a(self):
        self.handled = "A:%d" % self.index
        self.next(self.items_done)

    @step
    def handle_b(self):
        self.handled = "B:%d" % self.index
        self.next(self.items_done)

    @step
    def items_done(self, inputs):
        self.handled = sorted(i.handled for i in inputs)  # Metaflow orders by a set of steps, then index
        self.count = inputs[0].count
        self.mode = "deep"
        self.next(self.branch)

    @step
    def branch(self):
        self.next(self.left, self.right)

    @step
    def left(self):
        self.side = 1
        self.next({"deep": self.left_deep, "flat": self.left_flat}, condition="mode")

    @step
    def left_deep(self):
        self.depth = 2
        self.next({True: self.left_done, False: self.left_flat}, condition="side_is_one")

    @property
    def side_is_one(self):
        return self.side == 1

    @step
    def left_flat(self):
        self.depth = 1
        self.next(self.left_done)

    @step
    def left_done(self):
        self.next(self.sides)

    @step
    def right(self):
        self.depth = 0
        self.next(self.sides)

    @step
    def sides(self, inputs):
        self.depths = sorted(i.depth for i in inputs)
        self.merge_artifacts(inputs, exclude=["depth"])
        self.loop = 0
        self.next(self.loop_step)

    @step
    def loop_step(self):
        self.loop += 1
        self.status = "again" if self.loop < 3 else "done"
        self.next({"again": self.loop_step, "done": self.back}, condition="status")

    @step
    def back(self):
        self.count += 1
        self.laps = [3, 1]
        self.next(self.lap, foreach="laps")

    @step
    def lap(self):
        self.goal = self.input
        self.done_laps = 0
        self.next(self.lap_loop)

    @step
    def lap_loop(self):
        self.done_laps += 1
        self.more = str(self.done_laps < self.goal)
        self.next({"True": self.lap_loop, "False": self.lap_end}, condition="more")

    @step
    def lap_end(self):
        self.next(self.laps_done)

    @step
    def laps_done(self, inputs):
        self.done_laps = [i.done_laps for i in inputs]
        self.merge_artifacts(inputs, exclude=["goal", "more", "laps"])
        self.next(self.fan)

    @step
    def fan(self):
        self.mode = "split"
        self.next({"split": self.fan_split, "skip": self.end}, condition="mode")

    @step
    def fan_split(self):
        self.parts = [1, 2]
        self.next(self.part, foreach="parts")

    @step
    def part(self):
        self.doubled = self.input * 2
        self.next(self.parts_done)

    @step
    def parts_done(self, inputs):
        self.doubled = [i.doubled for i in inputs]
        self.merge_artifacts(inputs, exclude=["parts"])
        self.next(self.end)

    @step
    def end(self):
        self.summary = (self.handled, self.depths, self.loop, self.count, self.done_laps, self.doubled)


if __name__ == "__main__":
    DiffSwitchFlow()
