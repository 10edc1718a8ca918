"""@secrets from both of Metaflow's sources: inline values and AWS Secrets Manager (moto in tests).
Steps keep only digests of what they saw, so a test can check the values arrived and went nowhere else."""

import hashlib
import os

from orchestrator import FlowSpec, secrets, step

INLINE = [{"type": "inline", "id": "1", "options": {"env_vars": {"secret_1": "Pizza is a vegetable."}}}]


def digest(name):
    value = os.environ.get(name)
    return hashlib.sha256(value.encode()).hexdigest() if value is not None else None


class SecretsFlow(FlowSpec):
    @secrets(sources=INLINE + ["orch-test/db"])
    @step
    def start(self):
        self.seen = {name: digest(name) for name in ("secret_1", "DB_USER", "db_pass")}
        print("start has %d secrets" % sum(v is not None for v in self.seen.values()))
        self.next(self.end)

    @step
    def end(self):
        self.leaked = digest("DB_USER")  # a step without @secrets sees none


if __name__ == "__main__":
    SecretsFlow()
