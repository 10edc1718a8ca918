"""orch: a container-per-step workflow orchestrator with Metaflow's authoring API.

Porting a Metaflow flow means changing ``from metaflow import ...`` to
``from orchestrator import ...``. This module imports only the authoring
layer, which the task runtime also uses inside containers, so it stays
standard-library-only and Python 3.8 compatible.
"""

from .authoring.current import current
from .authoring.decorators import (
    batch,
    cache,
    card,
    catch,
    conda,
    conda_base,
    environment,
    exit_hook,
    parallel,
    project,
    pypi,
    pypi_base,
    resources,
    retry,
    sandbox,
    schedule,
    secrets,
    step,
    timeout,
    trigger,
    trigger_on_finish,
)
from .authoring.flowspec import FlowSpec
from .authoring.mutators import FlowMutator, StepMutator, UserStepDecorator, user_step_decorator
from .authoring.parameters import IncludeFile, JSONType, Parameter
from .authoring.user_configs import Config, ConfigValue, config_expr
from .multicore_utils import parallel_imap_unordered, parallel_map, profile
from .version import __version__

_CLIENT = (
    "Flow",
    "Run",
    "Step",
    "Task",
    "DataArtifact",
    "namespace",
    "get_namespace",
    "default_namespace",
    "get_metadata",
    "metadata",
)


_RUNNER = ("Runner", "NBRunner", "Deployer")


def __getattr__(name: str):  # PEP 562: the client loads only when used, keeping task start-up lean
    if name in _CLIENT:
        from . import client

        return getattr(client, name)
    if name in _RUNNER:
        from . import runner

        return getattr(runner, name)
    if name == "publish_event":  # @trigger's events, from Python
        from .deployers.step_functions.publish import publish_event

        return publish_event
    if name == "Metaflow":
        from .client.root import Metaflow

        return Metaflow
    if name == "S3":  # loads only when a flow uses it
        from .datatools import S3

        return S3
    if not name.startswith("_"):
        from .authoring.decorators import plugin_decorator

        found = plugin_decorator(name)
        if found is not None:
            return found
    raise AttributeError("module 'orchestrator' has no attribute %r" % name)


__all__ = [
    "__version__",
    "DataArtifact",
    "Flow",
    "FlowSpec",
    "Metaflow",
    "Deployer",
    "NBRunner",
    "Runner",
    "publish_event",
    "Run",
    "S3",
    "Step",
    "Task",
    "default_namespace",
    "get_metadata",
    "get_namespace",
    "metadata",
    "namespace",
    "Config",
    "ConfigValue",
    "config_expr",
    "IncludeFile",
    "JSONType",
    "Parameter",
    "batch",
    "cache",
    "card",
    "catch",
    "conda",
    "conda_base",
    "current",
    "environment",
    "exit_hook",
    "parallel_imap_unordered",
    "parallel_map",
    "profile",
    "FlowMutator",
    "StepMutator",
    "UserStepDecorator",
    "user_step_decorator",
    "parallel",
    "pypi",
    "project",
    "pypi_base",
    "resources",
    "retry",
    "sandbox",
    "schedule",
    "secrets",
    "step",
    "timeout",
    "trigger",
    "trigger_on_finish",
]
