"""``orch configure aws`` writes where Batch runs go; ``orch configure show`` prints the effective settings."""

from __future__ import annotations

import os
import sys

import click

from ..config import AWS_ENV, AwsSettings, Config, config_path, read_config_file, write_config_file
from ..errors import UsageError

_PROMPTS = {
    "s3_root": "S3 root for artifacts and metadata (s3://bucket/prefix)",
    "batch_queue": "AWS Batch job queue",
    "registry": "Image registry ('ecr' for the account's ECR, or HOST[:PORT])",
    "region": "AWS region",
    "endpoint_url": "Endpoint URL (blank for AWS itself)",
    "job_role": "IAM role ARN for jobs (blank for none)",
}


@click.group()
def configure():
    """Write or show orch's configuration file [env ORCH_CONFIG; default ~/.config/orch/config.json]."""


@configure.command("aws")
@click.option("--s3-root", default=None, help="S3 root of the store for Batch runs, s3://bucket/prefix.")
@click.option("--queue", "batch_queue", default=None, help="Default AWS Batch job queue.")
@click.option("--registry", default=None, help="'ecr', or a registry host such as 127.0.0.1:5000.")
@click.option("--region", default=None, help="AWS region, e.g. us-east-1.")
@click.option("--endpoint-url", default=None, help="A non-AWS endpoint (MinIO, moto, a VPC endpoint).")
@click.option("--job-role", default=None, help="IAM role ARN the jobs run as.")
@click.option(
    "--forward-credentials/--no-forward-credentials",
    default=None,
    help="Pass this shell's AWS keys to each job (emulators and role-less compute only).",
)
def configure_aws(**given):
    """Set the S3 root, job queue, registry, region and endpoint for --with batch.

    Options not given are asked for on a terminal and kept as they are
    otherwise. Environment variables still override the file: ORCH_S3_ROOT,
    ORCH_BATCH_QUEUE, ORCH_REGISTRY, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL,
    ORCH_BATCH_JOB_ROLE. Credentials are never written here: boto3 finds them
    as usual (environment, ~/.aws, a role).
    """
    path = config_path()
    data = read_config_file(path)
    section = dict(data.get("aws") or {})
    interactive = sys.stdin.isatty() and not any(v is not None for v in given.values())
    for name, value in given.items():
        if value is None and interactive and name in _PROMPTS:
            value = click.prompt(_PROMPTS[name], default=section.get(name) or "", show_default=True).strip()
        if value is None:
            continue
        if value in ("", False) and name != "forward_credentials":
            section.pop(name, None)
        else:
            section[name] = value
    root = section.get("s3_root")
    if root and not str(root).startswith("s3://"):
        raise UsageError("The S3 root must look like s3://bucket/prefix, not %r." % root)
    data["aws"] = section
    write_config_file(path, data)
    click.echo("Wrote %s" % path)


def _show(settings: AwsSettings) -> None:
    for name in ("s3_root", "batch_queue", "registry", "region", "endpoint_url", "job_role", "forward_credentials"):
        value = getattr(settings, name)
        click.echo("  %-20s %-40s (%s)" % (name, value if value not in (None, "") else "-", settings.origin(name)))


@configure.command("show")
def configure_show():
    """Print the effective configuration and where each value comes from. Secrets are never printed."""
    config = Config.from_env()
    path = config_path()
    click.echo("config file: %s%s" % (path, "" if os.path.exists(path) else " (not written yet)"))
    click.echo("store:       %s%s" % (config.store_url, "" if config.store_given else " (default)"))
    click.echo("aws:")
    _show(config.aws)
    keys = "set, from the environment" if os.environ.get("AWS_ACCESS_KEY_ID") else "boto3's chain (~/.aws, a role)"
    click.echo("  %-20s %s" % ("credentials", keys))
    overridden = [v for names in AWS_ENV.values() for v in names if os.environ.get(v)]
    if overridden:
        click.echo("environment overrides: %s" % ", ".join(overridden))


COMMANDS = (configure,)
