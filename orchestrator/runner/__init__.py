"""The Runner API: run and resume flows from Python and notebooks, each in a subprocess."""

from .api import ExecutingRun, ExecutingTask, Runner
from .deployer import Deployer
from .notebook import NBRunner, NBRunnerInitializationError

__all__ = ["Deployer", "ExecutingRun", "ExecutingTask", "NBRunner", "NBRunnerInitializationError", "Runner"]
