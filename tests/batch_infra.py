"""What a Batch run needs, offline: a moto server's Batch, IAM, EC2, ECR, Logs and S3, and a real registry.

moto runs each Batch job as a real container on the local engine, with
host networking so the job reaches moto's S3 on loopback. Debian's
``docker-registry`` serves images on a loopback port; the engine trusts
loopback registries without TLS.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from typing import Any, Optional


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_http(url: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


class LocalRegistry:
    """``docker-registry serve`` with a config and storage of its own, on a free loopback port."""

    def __init__(self, folder: str) -> None:
        binary = shutil.which("docker-registry")
        if binary is None:
            raise RuntimeError(
                "docker-registry is not installed: apt-get install -y docker-registry (make fixtures does)"
            )
        self.port = free_port()
        self.host = "127.0.0.1:%d" % self.port
        os.makedirs(folder, exist_ok=True)
        config = os.path.join(folder, "config.yml")
        with open(config, "w") as handle:
            handle.write(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\n"
                "http:\n  addr: %s\n" % (os.path.join(folder, "data"), self.host)
            )
        self.process = subprocess.Popen(
            [binary, "serve", config], stdout=subprocess.DEVNULL, stderr=open(os.path.join(folder, "log"), "wb")
        )
        _wait_http("http://%s/v2/" % self.host)

    def manifest_digest(self, repository: str, tag: str) -> Optional[str]:
        request = urllib.request.Request(
            "http://%s/v2/%s/manifests/%s" % (self.host, repository, tag),
            method="HEAD",
            headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.headers.get("Docker-Content-Digest")
        except urllib.error.HTTPError:
            return None

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


@dataclass
class BatchInfra:
    endpoint: str
    queue: str
    compute_environment: str


def make_batch_infra(endpoint: str, name: str = "orch-test") -> BatchInfra:
    """An IAM role, a VPC subnet and security group, an UNMANAGED compute environment and a job queue.
    Jobs move through their states at once instead of moto's default half-second steps."""
    import boto3

    request = urllib.request.Request(
        endpoint + "/moto-api/state-manager/set-transition",
        data=json.dumps({"model_name": "batch::job", "transition": {"progression": "immediate"}}).encode(),
        method="POST",
    )
    urllib.request.urlopen(request, timeout=5).read()
    iam = boto3.client("iam")
    role = iam.create_role(
        RoleName=name + "-batch-role",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName=name + "-sg", Description="orch tests", VpcId=vpc)["GroupId"]
    batch = boto3.client("batch")
    compute = batch.create_compute_environment(
        computeEnvironmentName=name + "-compute",
        type="UNMANAGED",
        state="ENABLED",
        serviceRole=role,
    )["computeEnvironmentArn"]
    del subnet, group  # an UNMANAGED environment needs neither; made so a MANAGED one could be tried
    queue = batch.create_job_queue(
        jobQueueName=name + "-queue",
        state="ENABLED",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": compute}],
    )["jobQueueName"]
    return BatchInfra(endpoint=endpoint, queue=queue, compute_environment=compute)


def job_records(s3: Any, bucket: str, prefix: str, flow: str, run_id: str) -> list:
    """The ``jobs/*.submitted.json`` records a run wrote: one per Batch job (an array job is one)."""
    base = "%s/flows/%s/runs/%s/jobs/" % (prefix, flow, run_id) if prefix else "flows/%s/runs/%s/jobs/" % (flow, run_id)
    found = s3.list_objects_v2(Bucket=bucket, Prefix=base).get("Contents", [])
    return [
        json.loads(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
        for item in found
        if item["Key"].endswith(".submitted.json")
    ]
