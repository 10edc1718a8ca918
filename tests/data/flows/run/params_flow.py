from orchestrator import FlowSpec, IncludeFile, JSONType, Parameter, current, step


class ParamsFlow(FlowSpec):
    alpha = Parameter("alpha", default=0.5)
    count = Parameter("count", default=3)
    name_ = Parameter("run-name", required=True)
    flag = Parameter("flag", default=False)
    config = Parameter("config", type=JSONType, default='{"k": [1, 2]}')
    text = IncludeFile("text", default=None)
    blob = IncludeFile("blob", is_text=False, default=None)

    @step
    def start(self):
        self.seen = {
            "alpha": self.alpha, "count": self.count, "name": self.name_, "flag": self.flag,
            "config": self.config, "text": self.text, "blob": self.blob,
        }
        self.ids = [current.flow_name, current.run_id, current.step_name, current.task_id, current.retry_count]
        self.x = 1
        self.next(self.middle)

    @step
    def middle(self):
        """current.run and current.task are client objects of this very run, readable mid-run."""
        self.from_current = (
            current.task.pathspec,
            current.run.id,
            current.run["start"].task.data.x,
            current.tempdir,
            "run_id" in current,
            current.get("project_name", "no project"),
            current.is_running_flow,
        )
        self.x += 1
        self.y = self.x * 10
        self.next(self.end)

    @step
    def end(self):
        self.final = (self.x, self.y, self.alpha)
        print("final", self.final)


if __name__ == "__main__":
    ParamsFlow()
