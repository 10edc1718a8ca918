import os
import socket
import time

from orchestrator import FlowSpec, Parameter, catch, current, resources, retry, step, timeout


class ContainerFactsFlow(FlowSpec):
    """Records where each task ran, and exercises OOM, timeout, exit codes, retry and catch in containers."""

    mode = Parameter("mode", default="facts")

    @step
    def start(self):
        self.items = [0, 1, 2]
        self.next(self.where, foreach="items")

    @step
    def where(self):
        with open("/proc/self/cgroup") as handle:
            self.cgroup = handle.read()
        self.hostname = socket.gethostname()
        self.uid = os.getuid()
        self.can_write_code = os.access(os.path.dirname(os.path.abspath(__file__)), os.W_OK)
        self.docker_socket = os.path.exists("/var/run/docker.sock")
        self.next(self.join)

    @step
    def join(self, inputs):
        self.hostnames = [i.hostname for i in inputs]
        self.uids = [i.uid for i in inputs]
        self.code_writable = any(i.can_write_code for i in inputs)
        self.saw_socket = any(i.docker_socket for i in inputs)
        self.next(self.fan_out)

    @step
    def fan_out(self):
        self.next(self.hog, self.slow, self.crash, self.flaky)

    @catch(var="hog_failure")
    @resources(memory=64)
    @step
    def hog(self):
        if self.mode == "faults":
            blocks = []
            for _ in range(40):
                blocks.append(bytearray(16 * 1024 * 1024))
        self.next(self.gather)

    @catch(var="slow_failure")
    @timeout(seconds=2)
    @step
    def slow(self):
        if self.mode == "faults":
            time.sleep(60)
        self.next(self.gather)

    @catch(var="crash_failure")
    @step
    def crash(self):
        if self.mode == "faults":
            os._exit(3)
        self.next(self.gather)

    @retry(times=1, minutes_between_retries=0)
    @step
    def flaky(self):
        if self.mode == "faults" and current.retry_count == 0:
            raise RuntimeError("first attempt fails")
        self.attempt = current.retry_count
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.merge_artifacts(inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ContainerFactsFlow()
