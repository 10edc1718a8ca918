"""Where ``@secrets`` values come from, and how they become a task's environment variables.

A source is Metaflow's: a string (the id of a secret in the default backend,
AWS Secrets Manager) or a dict ``{"type": ..., "id": ..., "options": {...},
"role": ...}``. Two backends exist: ``inline`` (the values are in the flow's
code, ``options={"env_vars": {...}}``) and ``aws-secrets-manager`` (fetched with
boto3 when the task starts; a JSON object secret gives one variable per key).

Values are fetched by whoever launches the task, held in memory, and handed
to it with its spec on stdin: on this machine by the orchestrator, on AWS
Batch by the job's own supervisor (``backends.batch.entry``). No value is ever
written to the store, a log, an image or ``orch show``. Standard library only;
boto3 is imported only to read AWS secrets.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..errors import OrchError

INLINE = "inline"
AWS = "aws-secrets-manager"
BACKENDS = (INLINE, AWS)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FORBIDDEN_PREFIX = "METAFLOW_"  # as Metaflow: secrets may not set its own configuration
_ARN_REGION = re.compile(r"^arn:aws[a-z-]*:secretsmanager:([^:]+):")


class SecretError(OrchError):
    """A secret could not be read, or its values cannot become environment variables."""


@dataclass(frozen=True)
class SecretSource:
    """One entry of ``@secrets(sources=[...])``. ``options`` holds inline values: never shown."""

    type: str
    id: str
    options: Tuple[Tuple[str, Any], ...] = ()
    role: Optional[str] = None

    def describe(self) -> str:
        """What ``orch show`` and records say: the backend and id, never a value."""
        if self.type == INLINE:
            return "inline:%s(%s)" % (self.id, ", ".join(sorted(dict(self.option("env_vars") or {}))))
        return "%s:%s" % (self.type, self.id)

    def option(self, name: str) -> Any:
        return dict(self.options).get(name)

    def to_json(self) -> Dict[str, Any]:
        """For a stored task spec: the id and options of a fetched secret (never an inline value)."""
        if self.type == INLINE:
            raise ValueError("inline secrets are read from the flow's code, not stored")
        return {"type": self.type, "id": self.id, "options": dict(self.options), "role": self.role}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SecretSource:
        return cls(
            str(data["type"]), str(data["id"]), tuple(sorted(dict(data.get("options") or {}).items())), data.get("role")
        )


def parse_sources(sources: Any, role: Optional[str] = None) -> Tuple[SecretSource, ...]:
    """Check and normalise ``sources``; raises ``ValueError`` naming what is wrong."""
    if isinstance(sources, (str, dict)) or not isinstance(sources, (list, tuple)):
        raise ValueError("sources=%r must be a list of secret ids or dicts." % (sources,))
    parsed = []
    for position, item in enumerate(sources):
        if isinstance(item, str):
            if not item:
                raise ValueError("sources[%d] is an empty secret id." % position)
            parsed.append(SecretSource(AWS, item, (), role))  # a bare id: the default backend, AWS
            continue
        if not isinstance(item, dict):
            raise ValueError("sources[%d] must be a secret id or a dict, not %r." % (position, item))
        unknown = sorted(set(item) - {"type", "id", "options", "role"})
        if unknown:
            raise ValueError(
                "sources[%d] has an unknown key %r; use type, id, options and role." % (position, unknown[0])
            )
        kind = item.get("type", AWS)
        if kind not in BACKENDS:
            raise ValueError("sources[%d] has type %r; orch reads %s." % (position, kind, " and ".join(BACKENDS)))
        options = item.get("options") or {}
        if not isinstance(options, dict):
            raise ValueError("sources[%d]: options must be a dict." % position)
        if kind == INLINE:
            env_vars = options.get("env_vars")
            if not isinstance(env_vars, dict) or not env_vars:
                raise ValueError("sources[%d]: an inline secret needs options={'env_vars': {...}}." % position)
            check_env_vars(env_vars, "sources[%d]" % position)
        secret_id = str(item.get("id") or (position + 1 if kind == INLINE else ""))
        if not secret_id:
            raise ValueError("sources[%d] names no secret: give it an 'id'." % position)
        parsed.append(SecretSource(kind, secret_id, tuple(sorted(options.items())), item.get("role") or role))
    return tuple(parsed)


def check_env_vars(values: Mapping[Any, Any], where: str) -> None:
    for name, value in values.items():
        if not isinstance(name, str) or not _ENV_NAME.match(name):
            raise ValueError("%s: %r is not a valid environment variable name." % (where, name))
        if name.startswith(_FORBIDDEN_PREFIX):
            raise ValueError("%s: %r starts with %s, which secrets may not set." % (where, name, _FORBIDDEN_PREFIX))
        if not isinstance(value, str):
            raise ValueError("%s: the value of %s is a %s, not a string." % (where, name, type(value).__name__))


def fetch(
    sources: Sequence[SecretSource], region: Optional[str] = None, endpoint: Optional[str] = None
) -> Dict[str, str]:
    """name → value for every source, in order; two sources may not set one variable."""
    found: Dict[str, str] = {}
    owner: Dict[str, str] = {}
    for source in sources:
        values = dict(source.option("env_vars") or {}) if source.type == INLINE else _aws(source, region, endpoint)
        try:
            check_env_vars(values, "secret %s" % source.describe())
        except ValueError as err:
            raise SecretError(str(err)) from None
        for name, value in values.items():
            if name in owner:
                raise SecretError(
                    "Secret %s sets %s, which secret %s sets too." % (source.describe(), name, owner[name]),
                    "Give each variable one source.",
                )
            owner[name], found[name] = source.describe(), value
    return found


def _sanitize(key: str) -> str:
    return key.replace("-", "_").replace(".", "_").replace("/", "_")


def _aws(source: SecretSource, region: Optional[str], endpoint: Optional[str]) -> Dict[str, str]:
    import boto3  # only here: a flow without AWS secrets never needs it

    match = _ARN_REGION.match(source.id)
    region = match.group(1) if match else source.option("region") or region
    session = boto3.session.Session()
    if source.role:
        sts = session.client("sts", region_name=region, endpoint_url=endpoint)
        creds = sts.assume_role(RoleArn=source.role, RoleSessionName="orch-secrets")["Credentials"]
        session = boto3.session.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
    client = session.client("secretsmanager", region_name=region, endpoint_url=endpoint)
    try:
        response = client.get_secret_value(SecretId=source.id)
    except Exception as exc:  # boto3's errors are many; the message says which
        raise SecretError(
            "Failed to retrieve secret '%s': %s" % (source.id, exc),
            "Check the secret's id and region, and that your AWS credentials may read it.",
        ) from None
    name = response.get("Name") or source.id
    if "SecretString" in response:
        text = response["SecretString"]
        if source.option("json") is False:
            return {source.option("env_var_name") or _sanitize(name): text}
        try:
            data = json.loads(text)
        except ValueError:
            raise SecretError(
                "Secret '%s' is not JSON; pass options={'json': False} to read it whole." % source.id
            ) from None
        if not isinstance(data, dict):
            raise SecretError("Secret '%s' is JSON but not an object of name -> value." % source.id)
        values: Dict[str, str] = {}
        for key, value in data.items():
            if _sanitize(key) in values:
                raise SecretError("Secret '%s' has two keys that both become %s." % (source.id, _sanitize(key)))
            values[_sanitize(key)] = str(value)
        return values
    blob = base64.b64encode(response.get("SecretBinary") or b"").decode()
    return {source.option("env_var_name") or _sanitize(name): blob}


def aws_sources(sources: Sequence[SecretSource]) -> List[SecretSource]:
    return [s for s in sources if s.type != INLINE]
