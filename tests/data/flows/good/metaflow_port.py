"""A flow using every decorator and parameter kind, as a ported Metaflow flow would."""

from orchestrator import (
    FlowSpec, IncludeFile, JSONType, Parameter, batch, catch, conda, conda_base, current,
    environment, pypi, resources, retry, step, timeout,
)


@conda_base(python="3.11", packages={"numpy": "1.26.4"})
class PortedFlow(FlowSpec):
    alpha = Parameter("alpha", help="Learning rate", default=0.01)
    epochs = Parameter("epochs", default=10)
    name_ = Parameter("run-name", required=True)
    verbose = Parameter("verbose", default=False)
    config = Parameter("config", type=JSONType, default='{"layers": 2}')
    data = IncludeFile("data", is_text=False, default=None)

    @catch(var="failure", print_exception=False)
    @retry(times=2, minutes_between_retries=0)
    @timeout(minutes=5)
    @resources(cpu=2, memory=8192)
    @step
    def start(self):
        print(current.flow_name)
        self.next(self.train, self.evaluate)

    @conda(packages={"pandas": "1.5.3"}, python="3.10")
    @environment(vars={"MODE": "fast"})
    @step
    def train(self):
        self.next(self.join)

    @conda(libraries={"pandas": "2.2.2"})
    @batch(cpu=4, memory=16000, queue="gpu-queue", iam_role="arn:aws:iam::1:role/x")
    @step
    def evaluate(self):
        self.next(self.join)

    @conda(disabled=True)
    @step
    def join(self, inputs):
        self.merge_artifacts(inputs)
        self.next(self.end)

    @pypi(packages={"requests": "2.32.3"})
    @step
    def end(self):
        pass


# step: start split -> train,evaluate join=join
# step: train linear -> join parents=start
# step: evaluate linear -> join parents=start
# step: join join -> end parents=start
# step: end end ->
