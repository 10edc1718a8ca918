"""``from metaflow.metaflow_current import current``: the module path some flows import ``current`` by.

Task-side code: standard library only.
"""

from .authoring.current import Current, Parallel, current

__all__ = ["Current", "Parallel", "current"]
