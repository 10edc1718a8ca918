"""Artifacts: pickled with protocol 5; large buffers (numpy, pandas) go out of band as their own blobs.

An artifact is one main pickle blob plus zero or more buffer blobs. A 200 MB
array is hashed and written straight from its memory, with no copy and no
compression, and read back into a writable buffer the array then uses as
is. The per-task index maps name → ``ArtifactRecord`` (keys, size, type), so
reading one artifact never loads another.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from typing import Any, Dict, List, NamedTuple, Tuple

from ..errors import OrchError
from .cas import ContentAddressedStore
from .names import check_artifact_name

OUT_OF_BAND_MIN = 64 * 1024  # smaller buffers stay inside the pickle


class UnpicklableArtifactError(OrchError):
    """An artifact value that pickle cannot serialise."""


class ArtifactRecord(NamedTuple):
    key: str
    buffers: Tuple[str, ...]
    size: int
    type: str

    @property
    def digest(self) -> str:
        """Identifies the value's content: equal digests mean equal pickles."""
        if not self.buffers:
            return self.key
        return hashlib.sha256("|".join((self.key,) + self.buffers).encode()).hexdigest()

    @property
    def blob_keys(self) -> Tuple[str, ...]:
        return (self.key,) + self.buffers

    def to_json(self) -> list:
        return [self.key, list(self.buffers), self.size, self.type]

    @classmethod
    def from_json(cls, data: list) -> ArtifactRecord:
        key, buffers, size, kind = data
        return cls(key, tuple(buffers), size, kind)


def type_name(value: Any) -> str:
    kind = type(value)
    return kind.__qualname__ if kind.__module__ == "builtins" else "%s.%s" % (kind.__module__, kind.__qualname__)


def serialize(name: str, value: Any) -> Tuple[bytes, List[memoryview]]:
    """(main pickle, out-of-band buffers); raises a named error for unpicklable values."""
    buffers: List[memoryview] = []

    def keep_out_of_band(buffer: pickle.PickleBuffer) -> bool:
        raw = buffer.raw()
        if raw.nbytes < OUT_OF_BAND_MIN:
            return True  # serialise in band
        buffers.append(raw)
        return False

    try:
        main = pickle.dumps(value, protocol=5, buffer_callback=keep_out_of_band)
    except Exception as exc:  # pickle raises many types: TypeError, PicklingError, AttributeError...
        raise UnpicklableArtifactError(
            "Artifact '%s' of type %s cannot be pickled: %s." % (name, type_name(value), exc),
            "Store a picklable value, or remove it before the step ends with 'del self.%s'." % name,
        ) from None
    return main, buffers


def save_artifact(cas: ContentAddressedStore, name: str, value: Any, fresh: bool = True) -> ArtifactRecord:
    """``fresh=False`` for a value that was loaded from the store (likely unchanged: hash before writing)."""
    check_artifact_name(name)
    main, buffers = serialize(name, value)
    refs = [cas.save_blob([b], fresh=fresh) for b in buffers]
    main_ref = cas.save_blob([main])
    return ArtifactRecord(
        main_ref.key, tuple(r.key for r in refs), main_ref.size + sum(r.size for r in refs), type_name(value)
    )


def save_artifacts(cas: ContentAddressedStore, values: Dict[str, Any]) -> Dict[str, ArtifactRecord]:
    return {name: save_artifact(cas, name, value) for name, value in values.items()}


def load_artifact(cas: ContentAddressedStore, record: ArtifactRecord, what: str = "") -> Any:
    """Load one artifact, verifying every blob; ``what`` names it in errors (artifact, task)."""
    main = cas.load_blob(record.key, what)
    buffers = [cas.load_blob(k, what + " buffer %d" % i) for i, k in enumerate(record.buffers)]
    return _Unpickler(io.BytesIO(main), buffers=buffers).load()


# Modules whose classes older orch versions pickled under another path (the package root was grouped
# by layer in 0.3): an artifact written then still loads. Never remove an entry.
MOVED_MODULES = {
    "orchestrator.%s" % name: "orchestrator.authoring.%s" % name
    for name in (
        "flowspec decorator_specs argcheck parameters user_configs current project_names secret_sources mutators "
        "flowattr flowgraph flowmodule loader"
    ).split()
}
MOVED_MODULES.update(
    {
        "orchestrator.client_parts": "orchestrator.client.parts",
        "orchestrator.client_root": "orchestrator.client.root",
        "orchestrator.client_state": "orchestrator.client.state",
        "orchestrator.tagging": "orchestrator.client.tagging",
        "orchestrator.dump": "orchestrator.client.dump",
        "orchestrator.codepkg": "orchestrator.task.codepkg",
    }
)


class _Unpickler(pickle.Unpickler):
    """Finds a class an older orch pickled under a module path that has since moved."""

    def find_class(self, module: str, name: str) -> Any:
        return super().find_class(MOVED_MODULES.get(module, module), name)
