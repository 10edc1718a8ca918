"""The task side of ``@card``: build the step's cards, render them while it runs (live cards) and once
it ends (even when it failed), and store each as a content-addressed HTML blob.

What the runner calls: ``CardSession(...).install()`` before the step (it sets
``current.card``), ``bind`` once the flow object exists, and ``finish``
after the step, which returns the ``CardRecord``s the attempt's end record
lists. A card that raises or runs past its ``timeout`` is replaced by an
error card (or left out, with ``save_errors=False``); nothing a card does
fails the task. Live renders run on one background thread, at most once
per ``refresh_interval`` per card, the newest state winning; each writes the
HTML and data blobs, then overwrites the card's small live pointer
(``<task>/cards/<attempt>.<n>.json``) that viewers poll. Standard library only.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
import traceback
from types import SimpleNamespace
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..store.backend import Backend
from ..store.cas import ContentAddressedStore
from ..store.records import CardRecord
from .base import MetaflowCard, MetaflowCardComponent
from .builtin import ErrorCard
from .collector import CardCollector, CardSlot
from .live import live_key, write_pointer
from .page import escape
from .registry import card_class, skipped
from .task_view import CardTask


def _rendered(component: MetaflowCardComponent) -> Any:
    """What a card is given for a component: its render() (HTML text or a JSON-able dict), None if it fails."""
    try:
        out = component.render()
    except Exception:
        return None
    return out if isinstance(out, (str, dict)) else None


class _Timeout(BaseException):
    """A render past its time; a BaseException, so a card's own ``except Exception`` cannot swallow it."""


def _call(function: Callable[[], str], seconds: float) -> str:
    """Run a card's render for at most ``seconds``. In the task's main thread a timer signal interrupts
    it (no thread to start: most cards take well under a millisecond); elsewhere (live renders) it runs
    on a daemon thread that is abandoned if it hangs. Either way the task goes on."""
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        html = _with_alarm(function, seconds)
    else:
        html = _on_thread(function, seconds)
    if not isinstance(html, str):
        raise RuntimeError("render(task) returned %s, not the card's HTML (a str)" % type(html).__name__)
    return html


def _timeout_message(seconds: float) -> str:
    return "the card took longer than its timeout of %gs to render" % seconds


def _with_alarm(function: Callable[[], str], seconds: float) -> str:
    def expire(signum: int, frame: Any) -> None:
        raise _Timeout(_timeout_message(seconds))

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return function()
    except _Timeout:
        raise
    except BaseException:
        raise RuntimeError(traceback.format_exc()) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _on_thread(function: Callable[[], str], seconds: float) -> str:
    box: Dict[str, Any] = {}

    def target() -> None:
        try:
            box["html"] = function()
        except BaseException:  # handed back to the caller, who makes it an error card
            box["trace"] = traceback.format_exc()

    worker = threading.Thread(target=target, name="card-render", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise _Timeout(_timeout_message(seconds))
    if "trace" in box:
        raise RuntimeError(box["trace"])
    return box.get("html")  # type: ignore[return-value]


class CardSession:
    def __init__(
        self,
        specs: Tuple[Dict[str, Any], ...],
        pathspec: str,
        attempt: int,
        backend: Backend,
        graph: Dict[str, Any],
        started_at: float,
    ) -> None:
        self.pathspec = pathspec
        self.attempt = attempt
        self.backend = backend
        self.cas = ContentAddressedStore(backend)
        self.graph = graph
        self.slots = [CardSlot(i, SimpleNamespace(**spec), card_class(spec["type"])) for i, spec in enumerate(specs)]
        for slot in self.slots:
            if slot.cls is None:
                print(
                    "@card WARNING: there is no card type %r (step %s); it is left out.%s"
                    % (
                        slot.spec.type,
                        pathspec.split("/")[2],
                        " Card packages that failed to import: %s" % "; ".join(skipped) if skipped else "",
                    ),
                    file=sys.stderr,
                )
        self.collector = CardCollector(self, self.slots)
        self.task: Optional[CardTask] = None
        self.flow: Any = None
        self._lock = threading.Condition()
        self._pending: Optional[Tuple[Optional[Dict[str, Any]], List[List[Any]], Dict[int, Dict[str, Any]]]] = None
        self._last_write: Dict[int, float] = {}
        self._seq = 0
        self._user_data: Optional[Dict[str, Any]] = None
        self._worker: Optional[threading.Thread] = None
        self._stopping = False
        self._started_at = started_at
        self._parameters: List[str] = []

    def install(self) -> CardSession:
        """Make this session the running task's ``current.card``."""
        from ..authoring.current import current

        current._update(card=self.collector)
        return self

    def bind(
        self,
        flow: Any,
        names: Callable[[], List[str]],
        load: Callable[[str], Any],
        sizes: Callable[[], Dict[str, int]],
        parameters: List[str],
    ) -> None:
        """The step's flow object and how to read its artifacts, for cards' ``render(task)``."""
        self.flow = flow
        self._names, self._load, self._sizes, self._parameters = names, load, sizes, parameters

    def _task(self, exception: Optional[str] = None, finished: bool = False) -> CardTask:
        names = self._names() if self.flow is not None else []
        sizes = self._sizes() if self.flow is not None else {}
        load = self._load if self.flow is not None else (lambda name: None)
        task = CardTask(self.pathspec, names, load, sizes, self._parameters, started_at=self._started_at)
        return task.ended(exception) if finished else task

    def _instance(self, slot: CardSlot, components: List[Any]) -> MetaflowCard:
        assert slot.cls is not None
        return slot.cls(options=dict(slot.spec.options), components=components, graph=self.graph, flow=self.flow)

    # live cards

    def _snapshot(self) -> Tuple[List[List[Any]], Dict[int, Dict[str, Any]]]:
        """Each card's components as rendered now, in the caller's thread (the step may change them next)."""
        rendered, realtime = [], {}
        for slot in self.slots:
            rendered.append([r for r in (_rendered(c) for c in slot.components) if r is not None])
            realtime[slot.index] = {
                c.component_id: _rendered(c) for c in slot.components if c.REALTIME_UPDATABLE and c.component_id
            }
        return rendered, realtime

    def refresh(self, data: Optional[Dict[str, Any]], force: bool) -> None:
        if not any(s.runtime for s in self.slots):
            return
        if data is not None:
            self._user_data = json.loads(json.dumps(data, default=str))
        rendered, realtime = self._snapshot()
        with self._lock:
            self._pending = (self._user_data, rendered, realtime)
            if force:
                self._last_write.clear()
            self._lock.notify()
        if self._worker is None:
            self._worker = threading.Thread(target=self._loop, name="card-refresh", daemon=True)
            self._worker.start()

    def _loop(self) -> None:
        while True:
            with self._lock:
                while self._pending is None and not self._stopping:
                    self._lock.wait()
                if self._stopping:
                    return
                due = min(self._last_write.get(s.index, 0.0) + s.spec.refresh_interval for s in self.slots if s.runtime)
                if time.time() < due:
                    self._lock.wait(due - time.time())
                    continue
                pending, self._pending = self._pending, None
            try:
                self._write_live(*pending)
            except (Exception, _Timeout) as exc:  # a live render that fails is skipped: the final card still comes
                print("@card WARNING: a live card update failed: %s" % exc, file=sys.stderr)

    def _data(
        self, slot: CardSlot, user: Optional[Dict[str, Any]], realtime: Dict[int, Dict[str, Any]], final: bool
    ) -> Dict[str, Any]:
        self._seq += 1
        return {
            "mode": "final" if final else "refresh",
            "component_update_ts": time.time(),
            "components": realtime.get(slot.index, {}),
            "render_seq": self._seq,
            "user": user if user is not None else {},
        }

    def _write_live(
        self, user: Optional[Dict[str, Any]], rendered: List[List[Any]], realtime: Dict[int, Dict[str, Any]]
    ) -> None:
        task = self._task()
        for slot in self.slots:
            if not slot.runtime:
                continue
            card = self._instance(slot, rendered[slot.index])
            data = self._data(slot, user, realtime, final=False)
            card.runtime_data = data
            token = self._token(card, task, data)
            html = _call(lambda card=card, data=data: card.render_runtime(task, data), slot.spec.timeout)
            html = self._mark_live(html, token)
            update = {"data": card.refresh(task, data), "reload_token": token, "created_on": time.time()}
            rendered_card = CardRecord(
                slot.spec.type,
                slot.id,
                self._put(html.encode("utf-8")),
                self._put(json.dumps(update, default=str).encode("utf-8")),
            )
            flow, run, step, task_id = self.pathspec.split("/")
            write_pointer(
                self.backend, live_key(flow, run, step, task_id, self.attempt, slot.index), rendered_card, token
            )
            self._last_write[slot.index] = time.time()

    @staticmethod
    def _token(card: MetaflowCard, task: CardTask, data: Dict[str, Any]) -> str:
        if card.RELOAD_POLICY == MetaflowCard.RELOAD_POLICY_ONCHANGE:
            return str(card.reload_content_token(task, data))
        return "final" if task.finished else "runtime-%d" % data["render_seq"]

    @staticmethod
    def _mark_live(html: str, token: str) -> str:
        html = html.replace(MetaflowCard.RELOAD_POLICY_TOKEN, token)
        if "<!-- orch-live" not in html and token != "final":
            html = "<!-- orch-live %s -->\n%s" % (escape(token), html)
        return html

    def _put(self, data: bytes) -> str:
        return self.cas.save_blob([data], fresh=True).key  # a card's HTML names its task and time: always new

    # the end

    def finish(self, exception: Optional[str]) -> Tuple[CardRecord, ...]:
        """Stop live updates, render every card once more as final, store them; the records, in order."""
        if self._worker is not None:
            with self._lock:
                self._stopping = True
                self._lock.notify()
            self._worker.join(5)
        task = self._task(exception, finished=True)
        rendered, realtime = self._snapshot()
        records = []
        for slot in self.slots:
            if slot.cls is None:
                continue
            record = self._final(slot, task, rendered[slot.index], realtime)
            if record is not None:
                records.append(record)
        self._forget_live()
        return tuple(records)

    def _final(
        self, slot: CardSlot, task: CardTask, components: List[Any], realtime: Dict[int, Dict[str, Any]]
    ) -> Optional[CardRecord]:
        try:
            card = self._instance(slot, components)
            data = self._data(slot, self._user_data, realtime, final=True)
            card.runtime_data = data
            html = _call(lambda: card.render(task), slot.spec.timeout)
            html = html.replace(MetaflowCard.RELOAD_POLICY_TOKEN, self._token(card, task, data))
            data_key = None
            if slot.runtime and self._worker is not None:  # a data update only where refresh() was called
                update = {"data": card.refresh(task, data), "reload_token": "final", "created_on": time.time()}
                data_key = self._put(json.dumps(update, default=str).encode("utf-8"))
            return CardRecord(slot.spec.type, slot.id, self._put(html.encode("utf-8")), data_key)
        except (Exception, _Timeout) as exc:
            print(
                "@card WARNING: card %r of %s could not be rendered: %s"
                % (slot.spec.type, self.pathspec, str(exc).strip().splitlines()[-1] if str(exc).strip() else exc),
                file=sys.stderr,
            )
            if not slot.spec.save_errors:
                return None
            html = ErrorCard().render(task, str(exc), slot.spec.type)
            return CardRecord(slot.spec.type, slot.id, self._put(html.encode("utf-8")), None, error=True)

    def _forget_live(self) -> None:
        flow, run, step, task_id = self.pathspec.split("/")
        keys = [live_key(flow, run, step, task_id, self.attempt, s.index) for s in self.slots if s.runtime]
        if keys and self._last_write:
            try:
                self.backend.delete(keys)
            except Exception:  # the final record wins over a stale pointer anyway
                pass


class _Discard:
    """Where ``warm_up`` stores its card: nowhere (the content-addressed store calls only these two)."""

    def exists(self, key: str) -> bool:
        return False

    def put(self, key: str, chunks: Any, if_absent: bool = False) -> bool:
        return True


def warm_up() -> None:
    """Render, hash and encode one default card, storing nothing: the local executor's fork server
    calls it once, so every task it forks finds the card code imported and its caches (the time
    zone a card's timestamp reads) filled."""
    spec = {"type": "default", "id": None, "options": {}, "timeout": 45, "save_errors": True}
    spec.update(customize=False, refresh_interval=5)
    graph = {"steps": [{"name": "step", "next": []}]}
    session = CardSession((spec,), "Flow/1/step/1", 0, _Discard(), graph, time.time())  # type: ignore[arg-type]
    session.bind(object(), lambda: ["x"], lambda name: [1], dict, [])
    session.finish(None)
