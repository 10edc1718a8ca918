"""The static graph of a flow: parsed from source, then linted. Host side only."""

from .model import Graph, StepNode, StepType

__all__ = ["Graph", "StepNode", "StepType"]
