"""A run's parameter values, constants and configs, typed and saved: where the run starts.

A run started by orch computes them on the host; a deployed run (Step
Functions) computes them in its ``start`` job, from the execution's input.
Both come here, so a parameter's conversion, its default (a callable one
sees the run's ``@project`` names in ``current``) and an unknown or missing
parameter's error are the same wherever a run begins.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Dict, Iterator, Mapping, Optional, Tuple

from ..errors import ParameterError
from ..store.artifacts import ArtifactRecord, save_artifact
from ..store.cas import ContentAddressedStore
from .current import current
from .flowspec import FlowSpec
from .parameters import flow_constants, flow_parameters
from .project_names import ProjectInfo
from .user_configs import bound_values, flow_configs, stored


@dataclass(frozen=True)
class SavedValues:
    param_records: Dict[str, ArtifactRecord]
    param_display: Dict[str, Any]  # JSON-able renderings, for the run record
    constants: Dict[str, ArtifactRecord]  # class-level values, passed down to every task
    configs: Dict[str, ArtifactRecord]  # Config values, passed down to every task


def parameter_values(
    cls: type, flow: str, raw: Mapping[str, Any], from_env: Mapping[str, str] = {}, user: str = ""
) -> Dict[str, Any]:
    """attr → typed value for every parameter: from the command line, else the environment
    (``ORCH_RUN_<NAME>``, ``METAFLOW_RUN_<NAME>``), else its default; files read."""
    values: Dict[str, Any] = {}
    base_dir = os.getcwd()
    from_env = from_env or {}
    for attr, param in flow_parameters(cls):
        env_name = param.name.upper().replace("-", "_")
        if param.name in raw:
            value = param.convert(raw[param.name]) if not param.IS_FILE else raw[param.name]
        elif env_name in from_env:
            value = param.convert(from_env[env_name]) if not param.IS_FILE else from_env[env_name]
        elif param.required:
            raise ParameterError(
                "Missing required parameter %s." % param.option,
                "Give it on the command line: %s VALUE (or set ORCH_RUN_%s)." % (param.option, env_name),
            )
        else:
            value = param.resolve_default(flow, user, bound_values(cls))
        if param.IS_FILE and value is not None:
            value = param.read(str(value), base_dir)
        values[attr] = value
    unknown = sorted(set(raw) - {p.name for _, p in flow_parameters(cls)})
    if unknown:
        raise ParameterError("Unknown parameter --%s." % unknown[0])
    return values


def save_values(
    cls: type,
    flow: str,
    cas: ContentAddressedStore,
    raw: Mapping[str, Any],
    from_env: Mapping[str, str],
    user: str,
    project: Optional[ProjectInfo],
    origin: Optional[Tuple[Dict[str, ArtifactRecord], Dict[str, Any]]] = None,
) -> SavedValues:
    """Typed and saved: the parameters (``origin``'s records, by reference, for a resume), the
    constants and the configs."""
    if origin is not None:
        param_records, param_display = dict(origin[0]), dict(origin[1])
    else:
        # As in Metaflow, a callable default sees the run's @project names in ``current``.
        with current_fields(project.current_fields() if project else {}):
            values = parameter_values(cls, flow, raw, from_env, user)
        param_records = {attr: save_artifact(cas, attr, value) for attr, value in values.items()}
        param_display = {attr: jsonable(value) for attr, value in values.items()}
    constants = {attr: save_artifact(cas, attr, value) for attr, value in flow_constants(cls, FlowSpec)}
    bound = bound_values(cls)
    configs = {attr: save_artifact(cas, attr, stored(bound.get(c.name))) for attr, c in flow_configs(cls)}
    return SavedValues(param_records, param_display, constants, configs)


@contextmanager
def current_fields(fields: Mapping[str, Any]) -> Iterator[None]:
    """``current`` shows these fields while the block runs, and is empty again after it."""
    current._update(**fields)
    try:
        yield
    finally:
        current._clear()


def jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return "<%d bytes>" % len(value)
    return repr(value)
