"""The client layer: read runs, steps, tasks and artifacts from the store, as Metaflow's client does.

``core`` holds Flow, Run, Step and Task; ``parts`` the artifacts and code
they hand out; ``state`` which store and namespace the client reads;
``root`` Metaflow's ``Metaflow()`` object; ``tagging`` the rules of tag
changes; ``dump`` what ``orch dump`` shows. ``orchestrator.client`` is also
Metaflow's ``metaflow.client`` path, so ported imports of it keep working.
"""

from .core import Flow, Run, Step, Task
from .parts import DataArtifact
from .root import Metaflow
from .state import (
    ClientError,
    MissingChild,
    NamespaceMismatch,
    default_namespace,
    get_metadata,
    get_namespace,
    metadata,
    namespace,
    reset,
    use_store,
)

__all__ = [
    "ClientError",
    "DataArtifact",
    "Flow",
    "Metaflow",
    "MissingChild",
    "NamespaceMismatch",
    "Run",
    "Step",
    "Task",
    "default_namespace",
    "get_metadata",
    "get_namespace",
    "metadata",
    "namespace",
    "reset",
    "use_store",
]
