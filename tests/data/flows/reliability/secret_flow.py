import hashlib
import os

from orchestrator import FlowSpec, environment, step


class SecretFlow(FlowSpec):
    """Uses a secret from @environment without storing it; records whether host variables leaked in."""

    @environment(vars={"API_TOKEN": "tok-5ecret-4ae1b7"})
    @step
    def start(self):
        self.token_digest = hashlib.sha256(os.environ["API_TOKEN"].encode()).hexdigest()
        self.host_secret_visible = "ORCH_TEST_HOST_SECRET" in os.environ
        print("using the token")
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SecretFlow()
