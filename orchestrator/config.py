"""Configuration: one frozen object, built once by the CLI from flags and the environment, passed down.

Nothing reads the environment at import time; ``Config.from_env`` is called
explicitly, so tests and notebooks can build their own.
"""

from __future__ import annotations

import getpass
import json
import os
import re
from dataclasses import dataclass, field, fields, replace
from typing import Any, Dict, Mapping, Optional, Tuple

from .backends.spec import ConfigSection, Setting
from .defaults import BASE_IMAGE, STORE
from .errors import OrchError, UsageError
from .store.location import StoreLocation

DEFAULT_STORE = STORE
DEFAULT_BASE_IMAGE = BASE_IMAGE


@dataclass(frozen=True)
class PackageSources:
    """Where environments come from: a PyPI index and/or local wheel folders, and conda channels.

    Air-gapped machines point these at a local mirror: ``ORCH_PYPI_INDEX_URL``,
    ``ORCH_PYPI_FIND_LINKS`` (comma-separated folders; without an index URL
    they replace the index) and ``ORCH_CONDA_CHANNELS`` (comma-separated
    names or file:// URLs).
    """

    pypi_index_url: Optional[str] = None
    pypi_find_links: Tuple[str, ...] = ()
    conda_channels: Tuple[str, ...] = ()

    def uv_args(self) -> list:
        """The same flags work for ``uv pip`` and ``pip``."""
        args = []
        if self.pypi_index_url:
            args += ["--index-url", self.pypi_index_url]
        elif self.pypi_find_links:
            args += ["--no-index"]
        for link in self.pypi_find_links:
            args += ["--find-links", link]
        return args

    def pip_args(self) -> list:
        return self.uv_args()


NO_SOURCES = PackageSources()  # the public index and conda-forge


class ConfigError(OrchError):
    """The config file cannot be read, or holds a value orch cannot use."""


# ``orch configure aws``: the AWS settings every AWS part reads (the S3 store, the registry, Batch).
AWS_SECTION = ConfigSection(
    "aws",
    "Set the S3 root, job queue, registry, region and endpoint for --with batch.",
    (
        Setting(
            "s3_root",
            "--s3-root",
            "S3 root of the store for Batch runs, s3://bucket/prefix.",
            ("ORCH_S3_ROOT",),
            pattern=r"^s3://[^/]+",
            shape="s3://bucket/prefix",
        ),
        Setting("batch_queue", "--queue", "Default AWS Batch job queue.", ("ORCH_BATCH_QUEUE",)),
        Setting("registry", "--registry", "'ecr', or a registry host such as 127.0.0.1:5000.", ("ORCH_REGISTRY",)),
        Setting(
            "region", "--region", "AWS region, e.g. us-east-1.", ("ORCH_AWS_REGION", "AWS_REGION", "AWS_DEFAULT_REGION")
        ),
        Setting(
            "endpoint_url",
            "--endpoint-url",
            "A non-AWS endpoint (MinIO, moto, a VPC endpoint).",
            ("ORCH_AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL"),
        ),
        Setting("job_role", "--job-role", "IAM role ARN the jobs run as.", ("ORCH_BATCH_JOB_ROLE",)),
        Setting(
            "forward_credentials",
            "--forward-credentials",
            "Pass this shell's AWS keys to each job (emulators and role-less compute only).",
            ("ORCH_BATCH_FORWARD_CREDENTIALS",),
            flag=True,
        ),
        Setting(
            "sfn_role",
            "--sfn-role",
            "IAM role ARN AWS Step Functions runs deployed flows as (step-functions create).",
            ("ORCH_SFN_ROLE", "METAFLOW_SFN_IAM_ROLE"),
            pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$",
            shape="arn:aws:iam::ACCOUNT:role/NAME",
        ),
        Setting(
            "events_role",
            "--events-role",
            "IAM role ARN EventBridge starts deployed flows as (@schedule, @trigger).",
            ("ORCH_EVENTS_ROLE", "METAFLOW_EVENTS_SFN_ACCESS_IAM_ROLE"),
            pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$",
            shape="arn:aws:iam::ACCOUNT:role/NAME",
        ),
        Setting(
            "job_credentials_uri",
            "--job-credentials-uri",
            "Where deployed jobs fetch AWS credentials, as the ECS agent serves them (emulators only: "
            "real Batch gives each job its role's).",
            ("ORCH_JOB_CREDENTIALS_URI",),
            pattern=r"^https?://",
            shape="http://127.0.0.1:PORT/PATH",
        ),
    ),
)


@dataclass(frozen=True)
class AwsSettings:
    """Where Batch runs go: ``orch configure aws`` writes these to the config file; the environment wins.

    ``registry`` is ``ecr`` (the account's ECR, through boto3) or a registry
    host such as ``127.0.0.1:5000``. ``forward_credentials`` passes the
    submitting shell's AWS keys to each job as environment overrides: for
    emulators and compute without job roles only, since the keys then show
    in the job's description. Nothing here is a secret.
    """

    s3_root: Optional[str] = None
    batch_queue: Optional[str] = None
    registry: Optional[str] = None
    region: Optional[str] = None
    endpoint_url: Optional[str] = None
    job_role: Optional[str] = None
    forward_credentials: bool = False
    sfn_role: Optional[str] = None
    events_role: Optional[str] = None
    job_credentials_uri: Optional[str] = None
    origins: Tuple[Tuple[str, str], ...] = field(default=(), compare=False)  # field → "file" or "env NAME"

    def origin(self, name: str) -> str:
        return dict(self.origins).get(name, "default")

    def to_file(self) -> Dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "origins" and getattr(self, f.name)}


def config_path(environ: Optional[Mapping[str, str]] = None) -> str:
    env = os.environ if environ is None else environ
    if env.get("ORCH_CONFIG"):
        return env["ORCH_CONFIG"]
    base = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "orch", "config.json")


def read_config_file(path: str) -> Dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        raise ConfigError(
            "Cannot read the config file %s: %s" % (path, err), "Fix it, or write it again with: orch configure aws"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError("The config file %s is not a JSON object." % path, "Write it again with: orch configure aws")
    return data


def write_config_file(path: str, data: Dict[str, Any]) -> None:
    """Atomically: a temp file beside it, then rename."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    temp = "%s.tmp-%d" % (path, os.getpid())
    with open(temp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.replace(temp, path)


def _truthy(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


Origins = Dict[str, str]  # setting → where its value came from: "file" or "env NAME"


def section_values(
    section: ConfigSection, file_data: Mapping[str, Any], env: Mapping[str, str]
) -> Tuple[Dict[str, Any], Origins]:
    """A config section's values, the file's with the environment's over them, and where each came
    from (for ``orch configure show``). A flag that is set nowhere is False."""
    stored = file_data.get(section.name)
    stored = stored if isinstance(stored, dict) else {}
    values: Dict[str, Any] = {}
    origins: Origins = {}
    for setting in section.settings:
        variable = next((v for v in setting.env if env.get(v)), None)
        if variable is not None:
            values[setting.name] = _truthy(env[variable]) if setting.flag else env[variable]
            origins[setting.name] = "env " + variable
        elif stored.get(setting.name) not in (None, ""):
            values[setting.name] = stored[setting.name]
            origins[setting.name] = "file"
        if setting.flag:
            values[setting.name] = bool(values.get(setting.name, False))
    return values, origins


def aws_settings(file_data: Mapping[str, Any], env: Mapping[str, str]) -> AwsSettings:
    values, origins = section_values(AWS_SECTION, file_data, env)
    return AwsSettings(origins=tuple(origins.items()), **values)


def backend_settings(section: ConfigSection, environ: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    """A backend's own ``orch configure`` section, as the file and the environment give it now."""
    env = os.environ if environ is None else environ
    values, origins = section_values(section, read_config_file(config_path(env)), env)
    for setting in section.settings:  # a value that reaches a run is checked as `orch configure` checks it
        value = values.get(setting.name)
        if (
            setting.pattern
            and not setting.flag
            and value not in (None, "")
            and not re.match(setting.pattern, str(value))
        ):
            where = origins.get(setting.name, "")
            source = where[4:] if where.startswith("env ") else "%s in %s" % (setting.name, config_path(env))
            raise UsageError(
                "%s=%r is not %s." % (source, value, setting.shape or "a valid value"),
                "Fix it, or set it with: orch configure %s %s VALUE" % (section.name, setting.option),
            )
    return values


@dataclass(frozen=True)
class Config:
    store: StoreLocation = field(default_factory=lambda: StoreLocation.parse(DEFAULT_STORE))
    username: str = "unknown"
    sources: PackageSources = NO_SOURCES
    base_image: str = DEFAULT_BASE_IMAGE  # ORCH_BASE_IMAGE, e.g. python:3.11-slim where a registry is reachable
    aws: AwsSettings = AwsSettings()
    store_given: bool = False  # --store or ORCH_STORE; otherwise a Batch run takes aws.s3_root
    cache_dir: str = ""  # ORCH_CACHE: host envs, runtime copies, package downloads
    # Parameter values from the environment, by upper-case name: ORCH_RUN_<NAME>, else METAFLOW_RUN_<NAME>
    # (Metaflow's click envvar for its run options). The command line wins over both.
    parameter_env: Tuple[Tuple[str, str], ...] = ()

    @property
    def store_url(self) -> str:
        return self.store.url

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None, store: Optional[str] = None) -> Config:
        env = os.environ if environ is None else environ
        sources = PackageSources(
            pypi_index_url=env.get("ORCH_PYPI_INDEX_URL") or None,
            pypi_find_links=_split(env.get("ORCH_PYPI_FIND_LINKS")),
            conda_channels=_split(env.get("ORCH_CONDA_CHANNELS")),
        )
        given = store or env.get("ORCH_STORE")
        base_image = env.get("ORCH_BASE_IMAGE") or DEFAULT_BASE_IMAGE
        aws = aws_settings(read_config_file(config_path(env)), env)
        return cls(
            store=StoreLocation.parse(given or DEFAULT_STORE),
            username=_user(env),
            sources=sources,
            base_image=base_image,
            aws=aws,
            store_given=bool(given),
            cache_dir=cache_dir(env),
            parameter_env=_parameter_env(env),
        )

    def with_store(self, url: str) -> Config:
        """This config with the store at ``url``, unless the user gave one (--store, ORCH_STORE): a
        backend whose tasks run elsewhere moves a run to the store they can reach."""
        return self if self.store_given else replace(self, store=StoreLocation.parse(url))


def _parameter_env(env: Mapping[str, str]) -> Tuple[Tuple[str, str], ...]:
    found: Dict[str, str] = {}
    for prefix in ("METAFLOW_RUN_", "ORCH_RUN_"):  # later wins: orch's own over Metaflow's
        for name, value in env.items():
            if name.startswith(prefix) and len(name) > len(prefix):
                found[name[len(prefix) :]] = value
    return tuple(sorted(found.items()))


def _split(value: Optional[str]) -> Tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def resolve_store(url: str) -> str:
    """Local paths become absolute (tasks may run elsewhere); S3 URLs stay as given."""
    return StoreLocation.parse(url).url


def cache_dir(environ: Optional[Mapping[str, str]] = None) -> str:
    """Where orch caches host envs, runtime copies and downloads: ``ORCH_CACHE``, else ``~/.cache/orch``."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return env.get("ORCH_CACHE") or os.path.join(base, "orch")


def _user(env: Mapping[str, str]) -> str:
    for name in ("ORCH_USER", "METAFLOW_USER", "USER", "USERNAME", "LOGNAME"):
        if env.get(name):
            return env[name]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
