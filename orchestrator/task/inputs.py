"""Lazy artifact access for a running task: its inherited artifacts, and the inputs of a join.

Nothing is loaded until the step reads it: ``self.x`` in a step, or
``inputs.a.x`` in a join, fetches and verifies just that artifact.
"""

from __future__ import annotations

import hashlib
import pickle
from typing import Any, Dict, Iterator, List, Optional, Tuple

from ..store.artifacts import ArtifactRecord, load_artifact
from ..store.cas import ContentAddressedStore
from ..store.records import Read

KEEP_BYTES = 1 << 20  # a foreach list up to this size stays loaded once a task took its element


class ReadLog:
    """What a task read, for step memoization: every artifact (``self.x``, ``inputs[i].x``, its own
    element of a foreach list as ``self.input``), parameter and config, with its content digest, and
    every name it looked for and did not find. Kept only when the step is cached."""

    def __init__(self) -> None:
        self._reads: Dict[Tuple[str, str], Optional[str]] = {}

    def note(self, scope: str, name: str, digest: Optional[str]) -> None:
        self._reads.setdefault((scope, name), digest)

    def entries(self) -> Tuple[Read, ...]:
        return tuple((scope, name, digest) for (scope, name), digest in sorted(self._reads.items()))


def element_digest(value: Any) -> str:
    """The digest of one foreach element (its pickle): what a foreach task's ``self.input`` read."""
    return hashlib.sha256(pickle.dumps(value, protocol=4)).hexdigest()


def inputs_digest(scopes: List[str]) -> str:
    """Which inputs a join has (their read scopes): part of what every join reads, since iterating
    ``inputs`` sees them all. Recorded as the read ("join", "inputs")."""
    return hashlib.sha256("\n".join(sorted(scopes)).encode("utf-8")).hexdigest()


def digest_of_digests(digests: Dict[str, str]) -> str:
    """One digest for a whole artifact index (what ``merge_artifacts`` compares)."""
    text = "\n".join("%s=%s" % item for item in sorted(digests.items()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def branch_scope(step: str, position: int, static: bool) -> str:
    """The read scope of a join's input: its step for a static join's branches, step#position (the
    foreach index order the planner gives) for a foreach join's."""
    return "input:%s" % step if static else "input:%s#%d" % (step, position)


class ArtifactSource:
    """name → record for what a task can read, loading values on demand. With a ``ReadLog``, each
    load and each failed lookup is noted under ``scope`` ('self', or 'input:<branch>' in a join)."""

    def __init__(
        self,
        cas: ContentAddressedStore,
        records: Dict[str, ArtifactRecord],
        where: str,
        reads: Optional[ReadLog] = None,
        scope: str = "self",
    ) -> None:
        self.cas = cas
        self.records = dict(records)
        self.where = where  # "Flow/run/step/task", for error messages
        self.reads, self.scope = reads, scope
        # Small foreach lists ``element`` loaded, kept for the task's cards, whose previews show them:
        # the same value, not a second read from the store.
        self.kept: Dict[str, Any] = {}

    def __contains__(self, name: str) -> bool:
        found = name in self.records
        if not found and self.reads is not None:
            self.reads.note(self.scope, name, None)  # hasattr() and getattr(..., default) depend on it
        return found

    def load(self, name: str) -> Any:
        record = self.records[name]
        if self.reads is not None:
            self.reads.note(self.scope, name, record.digest)
        return load_artifact(self.cas, record, "artifact '%s' of task %s" % (name, self.where))

    def element(self, name: str, index: int) -> Any:
        """Element ``index`` of list artifact ``name`` (a foreach task's input): noted as a read of that
        element alone, scope ``frame:<scope>``, so a change elsewhere in the list does not count."""
        record = self.records[name]
        whole = (
            self.kept[name]
            if name in self.kept
            else load_artifact(self.cas, record, "artifact '%s' of task %s" % (name, self.where))
        )
        if record.size <= KEEP_BYTES:
            self.kept[name] = whole
        value = whole[index]
        if self.reads is not None:
            self.reads.note("frame:" + self.scope, "%s#%d" % (name, index), element_digest(value))
        return value

    def digests(self) -> Dict[str, str]:
        found = {name: record.digest for name, record in self.records.items()}
        if self.reads is not None:
            self.reads.note(self.scope, "*", digest_of_digests(found))
        return found


class JoinInput:
    """One branch of a join: ``inp.x`` loads artifact ``x`` of that branch's task."""

    def __init__(self, step: str, task_id: str, source: ArtifactSource, index: Optional[int] = None) -> None:
        self.__dict__["_orch"] = (step, task_id, source, index)

    def __getattr__(self, name: str) -> Any:
        step, task_id, source, _ = self.__dict__["_orch"]
        if name.startswith("__") or name not in source:
            raise AttributeError("Branch %s/%s of the join has no artifact '%s'." % (step, task_id, name))
        value = source.load(name)
        self.__dict__[name] = value
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Inputs of a join are read-only; set self.%s in the join step instead." % name)

    def _orch_artifact_digests(self) -> Dict[str, str]:
        return self.__dict__["_orch"][2].digests()

    @property
    def index(self) -> Optional[int]:
        return self.__dict__["_orch"][3]

    @property
    def name(self) -> str:
        """The step this branch comes from."""
        return self.__dict__["_orch"][0]

    def __repr__(self) -> str:
        step, task_id, _, _ = self.__dict__["_orch"]
        return "<join input %s/%s>" % (step, task_id)


class Inputs:
    """The ``inputs`` of a join: iterable, sized, indexable, and ``inputs.step_name`` for static branches."""

    def __init__(self, branches: List[JoinInput]) -> None:
        self._branches = branches
        self._by_step = {b.name: b for b in branches}

    def __iter__(self) -> Iterator[JoinInput]:
        return iter(self._branches)

    def __len__(self) -> int:
        return len(self._branches)

    def __getitem__(self, index: int) -> JoinInput:
        return self._branches[index]

    def __getattr__(self, name: str) -> JoinInput:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self.__dict__["_by_step"][name]
        except KeyError:
            raise AttributeError(
                "This join has no input from step '%s'; its inputs come from: %s."
                % (name, ", ".join(sorted(self._by_step)))
            ) from None
