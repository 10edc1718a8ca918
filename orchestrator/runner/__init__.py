"""The Runner API: run and resume flows from Python and notebooks, each in a subprocess."""

from .api import ExecutingRun, ExecutingTask, Runner
from .notebook import NBRunner, NBRunnerInitializationError

__all__ = ["ExecutingRun", "ExecutingTask", "NBRunner", "NBRunnerInitializationError", "Runner"]
