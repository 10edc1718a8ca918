"""Placing steps on AWS Batch: check the store, ship the step images, pick queue and resources, and
build the executor with its boto3 clients. The host side of ``--with batch`` and ``@batch``."""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, Mapping

from ..config import AwsSettings, Config
from ..errors import UsageError
from ..executors.batch import BatchApi, BatchExecutor, StepJob
from ..loader import LoadedFlow

DEFAULT_VCPUS = 1.0
DEFAULT_MEMORY = 4096  # MiB, as Metaflow's @batch


def require_s3_store(config: Config) -> None:
    if not config.store_url.startswith("s3://"):
        raise UsageError(
            "Steps on AWS Batch need an S3 store, and this run's store is the directory %s." % config.store_url,
            "Give one with --store s3://BUCKET/PREFIX (or ORCH_STORE), or for every run: "
            "orch configure aws --s3-root s3://BUCKET/PREFIX",
        )


def apply_aws_environment(aws: AwsSettings) -> None:
    """Point this process's boto3 (the S3 store included) at the configured region and endpoint, unless
    the environment already names them."""
    if aws.endpoint_url:
        os.environ.setdefault("AWS_ENDPOINT_URL", aws.endpoint_url)
    if aws.region and not (os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")):
        os.environ["AWS_DEFAULT_REGION"] = aws.region


def aws_client(service: str, aws: AwsSettings) -> Any:
    import boto3

    return boto3.client(service, region_name=aws.region or None, endpoint_url=aws.endpoint_url or None)


def _largest(*values: Any) -> Any:
    present = [v for v in values if v]
    return max(present) if present else None


def step_job(node: Any, config: Config, image: str, python: str) -> StepJob:
    batch, resources, timeout = node.decorator("batch"), node.decorator("resources"), node.decorator("timeout")
    queue = (batch.queue if batch else None) or config.aws.batch_queue
    if not queue:
        raise UsageError(
            "Step '%s' runs on AWS Batch but no job queue is set." % node.name,
            "Set one with @batch(queue=...), ORCH_BATCH_QUEUE, or: orch configure aws --queue NAME",
        )
    return StepJob(
        image=image,
        queue=queue,
        python=python,
        vcpus=float(_largest(batch and batch.cpu, resources and resources.cpu) or DEFAULT_VCPUS),
        memory=int(_largest(batch and batch.memory, resources and resources.memory) or DEFAULT_MEMORY),
        gpus=int(_largest(batch and batch.gpu, resources and resources.gpu) or 0),
        timeout=timeout.total_seconds if timeout else None,
        role=(dict(batch.extra).get("iam_role") if batch else None) or config.aws.job_role,
    )


def place_batch(
    placement: Any, loaded: LoadedFlow, config: Config, plans: Mapping[str, Any], message: Callable[[str], None]
) -> None:
    """Ship each Batch step's image (once per tag) and record the job shape of every Batch step."""
    from ..images.registry import resolve_registry, ship

    registry = None
    shipped: Dict[str, Any] = {}
    for step, spec in plans.items():
        node = loaded.graph[step]
        python = "/usr/bin/python3" if spec.kind == "default" else "/opt/env/bin/python"
        image = node.decorator("batch").image
        if image is None:
            if spec.tag not in shipped:
                if registry is None:
                    registry = resolve_registry(config.aws.registry, lambda: aws_client("ecr", config.aws))
                shipped[spec.tag] = ship(placement.engine, spec.tag, registry)
                if shipped[spec.tag].pushed:
                    message("Pushed %s to %s" % (spec.tag, shipped[spec.tag].reference))
            image = shipped[spec.tag].reference
        placement.batch_jobs[step] = step_job(node, config, image, python)
        placement.env_records.setdefault(step, {})["batch_image"] = image


def job_environment(config: Config) -> Dict[str, str]:
    """What every job is told: the store, region and endpoint; the caller's keys only when asked to."""
    import boto3

    aws = config.aws
    session = boto3.session.Session(region_name=aws.region or None)
    env = {"ORCH_STORE": config.store_url}
    if session.region_name:
        env["AWS_DEFAULT_REGION"] = session.region_name
    if aws.endpoint_url:
        env["AWS_ENDPOINT_URL"] = aws.endpoint_url
    if aws.forward_credentials:
        credentials = session.get_credentials()
        if credentials is not None:
            frozen = credentials.get_frozen_credentials()
            env.update(AWS_ACCESS_KEY_ID=frozen.access_key, AWS_SECRET_ACCESS_KEY=frozen.secret_key)
            if frozen.token:
                env["AWS_SESSION_TOKEN"] = frozen.token
    return env


def make_batch_executor(placement: Any, config: Config, backend: Any) -> BatchExecutor:
    api = BatchApi(aws_client("batch", config.aws), aws_client("logs", config.aws))
    return BatchExecutor(
        api,
        placement.batch_jobs,
        backend,
        job_environment(config),
        lambda spec: spec.log_files(backend),
    )
