"""The frozen specs that step and flow decorators record: what each decorator's arguments mean.

Each spec validates its arguments once (``_check``), when the flow module is
imported, and is read later by whoever acts on it: the scheduler, the
executors, the environment builder. ``decorators`` attaches them to steps
and flows. Task-side code: standard library only, Python 3.8 compatible.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Dict, Optional, Tuple

from .argcheck import (
    BadArgument,
    channels,
    duration,
    env_vars,
    flag,
    identifier,
    megabytes,
    names,
    optional,
    packages,
    positive_number,
    python_version,
    text,
    whole,
)
from .decorator_base import Decorator
from .event_specs import EVENT_DECORATORS

HIDDEN = "<hidden>"


@dataclass(frozen=True)
class Catch(Decorator):
    """Catch an exception after retries; store it in ``var`` and continue the flow."""

    NAME: ClassVar[str] = "catch"
    var: Optional[str] = None
    print_exception: bool = True

    @classmethod
    def _check(cls, args: Dict[str, Any]) -> Dict[str, Any]:
        printed = flag("print_exception", args["print_exception"])
        return {"var": identifier("var", args["var"]), "print_exception": True if printed is None else printed}


@dataclass(frozen=True)
class Retry(Decorator):
    """Re-run a failed task up to ``times`` more times."""

    NAME: ClassVar[str] = "retry"
    times: int = 3
    minutes_between_retries: float = 2

    @classmethod
    def _check(cls, args: Dict[str, Any]) -> Dict[str, Any]:
        return {
            "times": whole("times", args["times"], 0, 100),
            "minutes_between_retries": positive_number(
                "minutes_between_retries", args["minutes_between_retries"], allow_zero=True
            ),
        }


@dataclass(frozen=True)
class Timeout(Decorator):
    """Kill a task that runs longer than ``hours:minutes:seconds``."""

    NAME: ClassVar[str] = "timeout"
    seconds: int = 0
    minutes: int = 0
    hours: int = 0

    @classmethod
    def _check(cls, args: Dict[str, Any]) -> Dict[str, Any]:
        checked = {k: whole(k, args[k], 0) for k in ("seconds", "minutes", "hours")}
        if not any(checked.values()):
            raise BadArgument("seconds", "a timeout of 0 seconds is not valid; give seconds=, minutes= or hours=.")
        return checked

    @property
    def total_seconds(self) -> int:
        return self.hours * 3600 + self.minutes * 60 + self.seconds


@dataclass(frozen=True)
class Resources(Decorator):
    """What a task needs: CPUs, memory and disk in MiB, GPUs."""

    NAME: ClassVar[str] = "resources"
    cpu: float = 1
    gpu: Optional[int] = None
    disk: Optional[int] = None
    memory: int = 4096
    shared_memory: Optional[int] = None

    @classmethod
    def _check(cls, args: Dict[str, Any]) -> Dict[str, Any]:
        return {
            "cpu": positive_number("cpu", args["cpu"]),
            "gpu": optional(whole)("gpu", args["gpu"]),
            "disk": optional(megabytes)("disk", args["disk"]),
            "memory": megabytes("memory", args["memory"]),
            "shared_memory": optional(megabytes)("shared_memory", args["shared_memory"]),
        }


@dataclass(frozen=True)
class Environment(Decorator):
    """Environment variables to set inside the task, as in Metaflow's ``@environment``."""

    NAME: ClassVar[str] = "environment"
    vars: Tuple[Tuple[str, str], ...] = ()

    @classmethod
    def _check(cls, args: Dict[str, Any]) -> Dict[str, Any]:
        return {"vars": env_vars("vars", args["vars"])}

    def attributes(self) -> Dict[str, Any]:
        """Names only: values may be secrets, and attributes end up in run records and ``orch show``."""
        return {"vars": {name: HIDDEN for name, _ in self.vars}}


@dataclass(frozen=True)
class Conda(Decorator):
    """A pinned conda environment for one step; merged over ``@conda_base``."""

    NAME: ClassVar[str] = "conda"
    packages: Tuple[Tuple[str, str], ...] = ()
    libraries: Tuple[Tuple[str, str], ...] = ()
    python: Optional[str] = None
    channels: Optional[Tuple[str, ...]] = None
    disabled: Optional[bool] = None
    lockfile: Optional[str] = None

    @classmethod
    def _check(cls, args: Dict[str, Any]) -> Dict[str, Any]:
        # ``libraries`` is Metaflow's older name for ``packages``; both are kept
        # as written, and ``all_packages`` merges them with packages winning.
        return {
            "packages": packages("packages", args["packages"]),
            "libraries": packages("libraries", args["libraries"]),
            "python": python_version("python", args["python"]),
            "channels": channels("channels", args["channels"]),
            "disabled": flag("disabled", args["disabled"]),
            "lockfile": text("lockfile", args["lockfile"]),
        }

    @property
    def all_packages(self) -> Tuple[Tuple[str, str], ...]:
        merged = dict(self.libraries)
        merged.update(self.packages)
        return tuple(sorted(merged.items()))


@dataclass(frozen=True)
class CondaBase(Conda):
    """Flow-level conda environment, the base every step's ``@conda`` merges over."""

    NAME: ClassVar[str] = "conda_base"
    IS_FLOW: ClassVar[bool] = True


@dataclass(frozen=True)
class Pypi(Decorator):
    """A pinned PyPI environment for one step; merged over ``@pypi_base``."""

    NAME: ClassVar[str] = "pypi"
    packages: Tuple[Tuple[str, str], ...] = ()
    python: Optional[str] = None
    disabled: Optional[bool] = None

    @classmethod
    def _check(cls, args: Dict[str, Any]) -> Dict[str, Any]:
        return {
            "packages": packages("packages", args["packages"]),
            "python": python_version("python", args["python"]),
            "disabled": flag("disabled", args["disabled"]),
        }

    @property
    def all_packages(self) -> Tuple[Tuple[str, str], ...]:
        return self.packages


@dataclass(frozen=True)
class PypiBase(Pypi):
    """Flow-level PyPI environment."""

    NAME: ClassVar[str] = "pypi_base"
    IS_FLOW: ClassVar[bool] = True


_CAPABILITY = r"^[A-Z][A-Z_]{1,31}$"


@dataclass(frozen=True)
class Sandbox(Decorator):
    """How much a task's container may do beyond orch's hardened default (an orch extension).

    By default every task container drops all Linux capabilities, cannot gain
    privileges (setuid binaries do not escalate), has a PID limit, and a
    read-only root filesystem with writable ``/tmp`` and home. A step that
    needs more asks for it here, e.g. ``@sandbox(writable_root=True)`` for a
    tool that writes beside its own files.
    """

    NAME: ClassVar[str] = "sandbox"
    writable_root: bool = False
    pids_limit: int = 4096
    capabilities: Tuple[str, ...] = ()  # added back, e.g. ("NET_BIND_SERVICE",)

    @classmethod
    def _check(cls, args: Dict[str, Any]) -> Dict[str, Any]:
        capabilities = args["capabilities"]
        if isinstance(capabilities, str) or not isinstance(capabilities, (list, tuple)):
            raise BadArgument("capabilities", "capabilities=%r must be a list of names." % (capabilities,))
        names = tuple(str(c).upper().replace("CAP_", "", 1) for c in capabilities)
        for name in names:
            if not re.match(_CAPABILITY, name):
                raise BadArgument("capabilities", "capabilities: %r is not a Linux capability name." % name)
        return {
            "writable_root": bool(flag("writable_root", args["writable_root"])),
            "pids_limit": whole("pids_limit", args["pids_limit"], 16, 1 << 20),
            "capabilities": names,
        }


@dataclass(frozen=True)
class Project(Decorator):
    """Which project the flow belongs to (``@project(name=...)``): runs are told apart by branch."""

    NAME: ClassVar[str] = "project"
    IS_FLOW: ClassVar[bool] = True
    name: Optional[str] = None
    branch: Optional[str] = None
    production: bool = False
    given: Tuple[str, ...] = field(default=(), compare=False)  # which of branch/production the flow set

    @classmethod
    def _check(cls, args: Dict[str, Any]) -> Dict[str, Any]:
        from .project_names import check_name

        name = args["name"]
        if not name:
            raise BadArgument("name", "@project needs a name. Try @project(name='some_name')")
        if not isinstance(name, str) or check_name("@project", name):
            raise BadArgument("name", check_name("@project", str(name)) or "name must be a string.")
        branch = text("branch", args["branch"])
        if branch is not None and check_name("branch", branch):
            raise BadArgument("branch", check_name("branch", branch) or "")
        return {
            "name": name,
            "branch": branch,
            "production": bool(flag("production", args["production"])),
            "given": tuple(k for k in ("branch", "production") if k in args["given"]),
        }


@dataclass(frozen=True)
class ExitHook(Decorator):
    """Functions called once a run has ended: those of ``on_success`` when it succeeded, of ``on_error``
    when it failed. Each is a function of the flow's module or its name, or a dotted import path; one
    that takes ``run`` gets the client's Run. Several ``@exit_hook``s add up, as in Metaflow."""

    NAME: ClassVar[str] = "exit_hook"
    IS_FLOW: ClassVar[bool] = True
    MULTIPLE: ClassVar[bool] = True
    on_success: Tuple[str, ...] = ()
    on_error: Tuple[str, ...] = ()
    options: Tuple[Tuple[str, Any], ...] = ()  # Metaflow's, for hooks run in containers on Argo: kept only

    @classmethod
    def _check(cls, args: Dict[str, Any]) -> Dict[str, Any]:
        hooks = {key: _hook_names(key, args[key]) for key in ("on_success", "on_error")}
        if not hooks["on_success"] and not hooks["on_error"]:
            raise BadArgument("on_success", "@exit_hook needs functions in on_success=[...] or on_error=[...].")
        options = args["options"]
        if not isinstance(options, (dict, tuple)):
            raise BadArgument("options", "options must be a dict.")
        return dict(hooks, options=tuple(sorted(dict(options).items())))

    def combined(self, other: ExitHook) -> ExitHook:
        """This hook's functions, then ``other``'s: the flow's ``@exit_hook``s together."""
        return ExitHook(
            self.on_success + other.on_success, self.on_error + other.on_error, self.options + other.options
        )


def _hook_names(key: str, hooks: Any) -> Tuple[str, ...]:
    if not isinstance(hooks, (list, tuple)):
        raise BadArgument(key, "%s must be a list of functions, e.g. %s=[notify]." % (key, key))
    names = []
    for hook in hooks:
        if isinstance(hook, str) and hook:
            names.append(hook)
        elif callable(hook) and getattr(hook, "__name__", None):
            names.append(hook.__name__)
        else:
            raise BadArgument(key, "%r is not a function or the name of one." % (hook,))
    return tuple(names)


@dataclass(frozen=True)
class Secrets(Decorator):
    """Secrets as environment variables of the task: inline ones from the code, AWS Secrets Manager
    ones fetched when the task starts. Values never reach the store, logs, images or ``orch show``."""

    NAME: ClassVar[str] = "secrets"
    sources: Tuple[Any, ...] = ()  # SecretSource
    role: Optional[str] = None
    allow_override: bool = False

    @classmethod
    def _check(cls, args: Dict[str, Any]) -> Dict[str, Any]:
        from .secret_sources import parse_sources

        role = text("role", args["role"])
        try:
            sources = parse_sources(args["sources"], role)
        except ValueError as err:
            raise BadArgument("sources", str(err)) from None
        return {
            "sources": sources,
            "role": role,
            "allow_override": bool(flag("allow_override", args["allow_override"])),
        }

    def attributes(self) -> Dict[str, Any]:
        """Where the secrets come from, never their values."""
        return {
            "sources": [s.describe() for s in self.sources],
            "role": self.role,
            "allow_override": self.allow_override,
        }


@dataclass(frozen=True)
class Parallel(Decorator):
    """A gang step: ``self.next(self.train, num_parallel=N)`` starts N tasks of it together, each with
    ``current.parallel`` (num_nodes, node_index, main_ip, control_task_id); a join follows."""

    NAME: ClassVar[str] = "parallel"


@dataclass(frozen=True)
class Cache(Decorator):
    """Reuse an earlier task of this step when its code, its environment and every value it read are
    unchanged (see ``orchestrator.memo``): ``version`` bumps it by hand, ``ignore`` names artifacts
    whose reads do not count, ``expire`` (seconds, or '12h', '7d') limits the age of what is reused."""

    NAME: ClassVar[str] = "cache"
    version: Optional[str] = None
    ignore: Tuple[str, ...] = ()
    expire: Optional[float] = None

    @classmethod
    def _check(cls, args: Dict[str, Any]) -> Dict[str, Any]:
        version = args["version"]
        if version is not None and (isinstance(version, bool) or not isinstance(version, (str, int, float))):
            raise BadArgument("version", "version=%r must be a string or a number." % (version,))
        return {
            "version": None if version is None else str(version),
            "ignore": names("ignore", args["ignore"]),
            "expire": duration("expire", args["expire"]),
        }


_CARD_NAME = re.compile(r"^[A-Za-z0-9_]+$")


@dataclass(frozen=True)
class Card(Decorator):
    """A visual report of the task (``orchestrator.cards``): ``type`` names the card type, ``id`` tells
    several cards of a step apart (``current.card["id"]``), ``options`` go to the card type, ``timeout``
    bounds its rendering, ``save_errors`` stores an error card in place of one that failed,
    ``customize`` makes it the card ``current.card.append`` feeds, ``refresh_interval`` (seconds)
    spaces the renders of a live card. A step may carry several."""

    NAME: ClassVar[str] = "card"
    MULTIPLE: ClassVar[bool] = True
    type: str = "default"
    id: Optional[str] = None
    options: Tuple[Tuple[str, Any], ...] = ()
    scope: str = "task"
    timeout: float = 45
    save_errors: bool = True
    customize: bool = False
    refresh_interval: float = 5

    @classmethod
    def _check(cls, args: Dict[str, Any]) -> Dict[str, Any]:
        for name in ("type", "id"):
            value = args[name]
            if value is not None and (not isinstance(value, str) or not _CARD_NAME.match(value)):
                raise BadArgument(name, "%s=%r must be letters, digits and _ only." % (name, value))
        if args["type"] is None:
            raise BadArgument("type", "type=None is not a card type; leave it out for the default card.")
        options = args["options"]
        if isinstance(options, tuple):
            options = dict(options)
        if not isinstance(options, dict):
            raise BadArgument("options", "options=%r must be a dict." % (options,))
        try:
            json.dumps(options)
        except (TypeError, ValueError):
            raise BadArgument(
                "options", "options=%r must be JSON-encodable (it goes to the task)." % (options,)
            ) from None
        if args["scope"] != "task":
            raise BadArgument("scope", "scope=%r: only scope='task' is supported." % (args["scope"],))
        return {
            "type": args["type"],
            "id": args["id"],
            "options": tuple(sorted(options.items())),
            "scope": "task",
            "timeout": positive_number("timeout", args["timeout"]),
            "save_errors": flag("save_errors", args["save_errors"]) is not False,
            "customize": bool(flag("customize", args["customize"])),
            "refresh_interval": positive_number("refresh_interval", args["refresh_interval"]),
        }

    def to_task(self) -> Dict[str, Any]:
        """What the task runtime needs of it, JSON-able (it travels in the TaskSpec)."""
        out = asdict(self)
        out["options"] = dict(self.options)
        return out


STEP_DECORATORS: Dict[str, type] = {
    c.NAME: c
    for c in (
        Catch,
        Retry,
        Timeout,
        Resources,
        Environment,
        Conda,
        Pypi,
        Sandbox,
        Parallel,
        Secrets,
        Cache,
        Card,
    )
}
FLOW_DECORATORS: Dict[str, type] = {c.NAME: c for c in (CondaBase, PypiBase, Project, ExitHook, *EVENT_DECORATORS)}
