"""The ``task`` a card's ``render(task)`` is given, inside the task itself: Metaflow's ``Task`` as far
as cards read it (``pathspec``, ``finished``, ``successful``, ``task["name"].data``, ``task.data.name``,
iteration over artifacts), backed by the step's own values, so rendering reads nothing back from
the store. Standard library only.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterator, List, Optional


class CardDatum:
    """One artifact as ``task["name"]`` gives it: ``.data`` loads the value when first read."""

    def __init__(self, name: str, load: Callable[[], Any], size: Optional[int] = None) -> None:
        self.id = name
        self._load = load
        self.size = size

    @property
    def data(self) -> Any:
        return self._load()

    def __repr__(self) -> str:
        return "<CardDatum %s>" % self.id


class _Namespace:
    def __init__(self, task: CardTask) -> None:
        self._task = task

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in self._task._names:
            raise AttributeError(name)
        return self._task[name].data


class CardTask:
    """What a card sees of its task, while it runs (``finished`` False) and once it ended."""

    def __init__(
        self,
        pathspec: str,
        names: List[str],
        load: Callable[[str], Any],
        sizes: Dict[str, int],
        parameters: List[str],
        finished: bool = False,
        exception: Optional[str] = None,
        started_at: Optional[float] = None,
    ) -> None:
        self.pathspec = pathspec
        self.flow_name, self.run_id, self.step_name, self.id = pathspec.split("/")
        self._names = list(names)
        self._load = load
        self._sizes = sizes
        self._cache: Dict[str, Any] = {}
        self.parameter_names = list(parameters)
        self.finished = finished
        self.exception = exception
        self.successful = finished and exception is None
        self.started_at = started_at
        self.data = _Namespace(self)
        self.origin_pathspec = None

    def ended(self, exception: Optional[str]) -> CardTask:
        """The same task, now finished (with the step's exception, if it raised)."""
        self.finished, self.exception, self.successful = True, exception, exception is None
        return self

    def _value(self, name: str) -> Any:
        if name not in self._cache:
            self._cache[name] = self._load(name)
        return self._cache[name]

    def __getitem__(self, name: str) -> CardDatum:
        if name not in self._names:
            raise KeyError(name)
        return CardDatum(name, lambda: self._value(name), self._sizes.get(name))

    def __contains__(self, name: str) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[CardDatum]:
        return (self[name] for name in self._names)

    @property
    def artifacts(self) -> List[CardDatum]:
        return list(self)

    def __repr__(self) -> str:
        return "<CardTask %s>" % self.pathspec
