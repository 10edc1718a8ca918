"""S3(run=self): data in and out of steps under the run's own prefix."""

from orchestrator import S3, FlowSpec, step


class S3Flow(FlowSpec):
    @step
    def start(self):
        with S3(run=self) as s3:
            self.url = s3.put("greeting.txt", "hello from start", metadata={"by": "start"})
            s3.put_many([("parts/a", b"A"), ("parts/b", b"B")])
        self.next(self.end)

    @step
    def end(self):
        with S3(run=self) as s3:
            greeting = s3.get("greeting.txt")
            self.greeting = (greeting.text, greeting.metadata, greeting.key)
            self.parts = sorted((obj.key, obj.text) for obj in s3.get_recursive(["parts"]))
