from orchestrator import FlowSpec, Parameter, current, schedule, step, trigger


@schedule(cron="0 6 * * ? *")
@trigger(event={"name": "data_ready", "parameters": {"rows": "row_count"}})
class SfnEventsFlow(FlowSpec):
    """Runs every morning at six, and whenever data_ready is published."""

    rows = Parameter("rows", type=int, default=1)

    @step
    def start(self):
        self.fired_by = current.trigger.event.name if current.trigger else None
        self.doubled = self.rows * 2
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SfnEventsFlow()
