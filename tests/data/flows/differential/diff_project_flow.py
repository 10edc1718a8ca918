"""@project with a branch in the decorator: current's project names, as Metaflow derives them."""

from orchestrator import FlowSpec, current, project, step


@project(name="diff_proj", branch="feature_x")
class DiffProjectFlow(FlowSpec):
    @step
    def start(self):
        self.names = (
            current.project_name,
            current.branch_name,
            current.project_flow_name,
            current.is_production,
            current.is_user_branch,
        )
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    DiffProjectFlow()
