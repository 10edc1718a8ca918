"""Metaflow's ``Deployer``: deploy a flow and trigger its runs from Python, as the CLI does.

``Deployer("flow.py").step_functions().create()`` runs ``step-functions
create`` in a subprocess (as the Runner runs ``run``) and returns the
deployed flow; its ``trigger(**params)`` starts a run and returns a
triggered run whose ``run`` is the client's ``Run`` once the run's ``start``
job has written it, and whose ``status`` is the execution's.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from typing import Any, Dict, Optional

from .api import failure_message
from .command import command_args, invocation, parameter_args, top_level_args
from .process import CommandManager

POLL_SECONDS = 1.0


class Deployer:
    """Deploys one flow file. Keywords are ``orch``'s top-level options, as for the ``Runner``."""

    def __init__(
        self,
        flow_file: str,
        show_output: bool = True,
        profile: Optional[str] = None,
        env: Optional[Dict[str, str]] = None,
        cwd: Optional[str] = None,
        file_read_timeout: int = 3600,
        **kwargs: Any,
    ) -> None:
        found = invocation(flow_file, profile, env, cwd, kwargs)
        self.flow_file, self.env_vars, self.cwd, self.top_level_kwargs = found
        self.show_output = show_output
        self.file_read_timeout = file_read_timeout

    def step_functions(self, **kwargs: Any) -> StepFunctionsDeployer:
        return StepFunctionsDeployer(self, kwargs)

    def _command(self, sub: str, kwargs: Dict[str, Any]) -> Dict[str, Any]:
        """Run ``step-functions SUB FLOW.py ...`` to its end; returns what it wrote to its attribute file."""
        from ..cli.sfn_cmd import step_functions

        folder = tempfile.mkdtemp(prefix="orch-deployer-")
        attributes = os.path.join(folder, "attributes.json")
        options, arguments, params = command_args(
            step_functions.commands[sub], dict(kwargs, deployer_attribute_file=attributes)
        )
        argv = top_level_args(self.top_level_kwargs) + ["step-functions", sub, self.flow_file] + arguments + options
        argv += parameter_args(params)
        command = CommandManager([sys.executable, "-m", "orchestrator"] + argv, self.env_vars, self.cwd, folder)
        command.start(self.show_output)
        command.sync_wait(self.file_read_timeout)
        try:
            if command.process is None or command.process.returncode != 0 or not os.path.exists(attributes):
                raise RuntimeError(failure_message(command))
            with open(attributes, encoding="utf-8") as handle:
                return json.load(handle)
        finally:
            command.cleanup()


class StepFunctionsDeployer:
    """``Deployer(...).step_functions(**create_options)``: ``create`` deploys the flow."""

    def __init__(self, deployer: Deployer, kwargs: Dict[str, Any]) -> None:
        self.deployer, self.kwargs = deployer, kwargs

    def create(self, **kwargs: Any) -> StepFunctionsDeployedFlow:
        found = self.deployer._command("create", dict(self.kwargs, **kwargs))
        return StepFunctionsDeployedFlow(self.deployer, found["name"], found["flow_name"], found["metadata"])


class StepFunctionsDeployedFlow:
    """A flow deployed to AWS Step Functions: ``trigger`` a run, ``delete`` the deployment."""

    def __init__(self, deployer: Deployer, name: str, flow_name: str, metadata: str) -> None:
        self.deployer, self.name, self.flow_name, self.metadata = deployer, name, flow_name, metadata

    def trigger(self, **kwargs: Any) -> StepFunctionsTriggeredRun:
        """Start a run; keywords are the flow's parameters (and ``run_id_file``)."""
        found = self.deployer._command("trigger", kwargs)
        return StepFunctionsTriggeredRun(self, found["run_id"])

    def delete(self) -> bool:
        """Remove the state machine and its rules; the runs stay in the store."""
        self.deployer._command("delete", {})
        return True

    def __repr__(self) -> str:
        return "StepFunctionsDeployedFlow(%s)" % self.name


class StepFunctionsTriggeredRun:
    """A run started on AWS Step Functions. ``run`` is None until its ``start`` job has recorded it."""

    def __init__(self, deployed: StepFunctionsDeployedFlow, run_id: str) -> None:
        self.deployed_flow, self.run_id = deployed, run_id
        self.pathspec = "%s/%s" % (deployed.flow_name, run_id)

    @property
    def run(self) -> Any:
        from ..client import Run, metadata
        from ..errors import OrchError

        metadata(self.deployed_flow.metadata)
        try:
            return Run(self.pathspec, _check_namespace=False)
        except OrchError:
            return None
        except Exception as err:  # the client's MetaflowNotFound
            if type(err).__name__ == "MetaflowNotFound":
                return None
            raise

    def _machines(self) -> Any:
        from ..config import Config
        from ..deployers.step_functions.machines import Machines

        return Machines(Config.from_env(store=self.deployed_flow.metadata))

    @property
    def status(self) -> str:
        """The execution's status: RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED."""
        return str(self._machines().describe(self.deployed_flow.name, self.run_id[len("sfn-") :])["status"])

    def wait_for_run(self, timeout: Optional[float] = None) -> Any:
        """Wait for the run to end (or ``timeout`` seconds); returns its client ``Run``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.status == "RUNNING":
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError("Run %s is still running after %ss." % (self.pathspec, timeout))
            time.sleep(POLL_SECONDS)
        return self.run

    def terminate(self) -> bool:
        self._machines().stop(self.deployed_flow.name, self.run_id[len("sfn-") :])
        return True

    def __repr__(self) -> str:
        return "StepFunctionsTriggeredRun(%s)" % self.pathspec
