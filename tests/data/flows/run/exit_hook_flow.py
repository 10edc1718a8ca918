from orchestrator import FlowSpec, Parameter, exit_hook, step


def notify(run=None):
    print("notify: successful=%s finished=%s" % (run.successful, run.finished))


def on_fail():
    print("on_fail called")


def broken():
    raise RuntimeError("hook broke")


@exit_hook(on_success=[notify, broken], on_error=[on_fail])
@exit_hook(on_success=["notify"])
class HookFlow(FlowSpec):
    fail = Parameter("fail", default=False)

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        if self.fail:
            raise ValueError("asked to")


if __name__ == "__main__":
    HookFlow()
