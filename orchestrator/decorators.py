"""Step and flow decorators. They only *record* frozen specs; executors act on them.

``@retry(times=2)`` validates its arguments when the flow module is imported
and attaches a frozen ``Retry`` spec to the step function. Nothing here
rewrites command lines or wraps the step: the scheduler, the executors and
the environment builder read the specs later, each taking only what it needs.

Signatures and defaults follow Metaflow's, so a Metaflow flow keeps working
once its import line changes. Task-side code: standard library only, Python
3.8 compatible.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Callable, ClassVar, Dict, List, Optional, Tuple

from .argcheck import (
    BadArgument,
    channels,
    env_vars,
    flag,
    identifier,
    megabytes,
    optional,
    packages,
    positive_number,
    python_version,
    text,
    whole,
)
from .errors import FlowDefinitionError, install_script_excepthook

_STEP_ATTR = "_orch_decorators"
_FLOW_ATTR = "_orch_flow_decorators"
_BUILT_ATTR = "_orch_built_decorators"  # with config values: the step's specs, pending ones built
_FLOW_BUILT_ATTR = "_orch_built_flow_decorators"


# --- specs


HIDDEN = "<hidden>"


@dataclass(frozen=True)
class Decorator:
    """Base of every recorded decorator spec."""

    NAME: ClassVar[str] = ""
    IS_FLOW: ClassVar[bool] = False

    @classmethod
    def _check(cls, args: Dict[str, Any]) -> Dict[str, Any]:
        """Validate and normalise the full argument dict (defaults filled in)."""
        return args

    def attributes(self) -> Dict[str, Any]:
        """The recorded arguments, JSON-friendly, for ``orch show`` and metadata."""
        out = {}
        for key, value in asdict(self).items():
            if isinstance(value, tuple) and value and isinstance(value[0], tuple):
                value = dict(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[key] = value
        return out

    def describe(self) -> str:
        """``@retry(times=1)``: only the arguments that differ from the defaults."""
        defaults = {f.name: f.default for f in fields(self)}
        shown = []
        for key, value in self.attributes().items():
            default = defaults.get(key)
            if isinstance(default, tuple):
                default = dict(default) if default and isinstance(default[0], tuple) else list(default)
            if value != default and value not in ({}, []):
                shown.append("%s=%r" % (key, value))
        return "@%s(%s)" % (self.NAME, ", ".join(shown)) if shown else "@%s" % self.NAME


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


_BATCH_PASSTHROUGH = tuple(
    """iam_role execution_role shared_memory max_swap swappiness inferentia trainium efa host_volumes efs_volumes
    use_tmpfs tmpfs_tempdir tmpfs_size tmpfs_path ephemeral_storage log_driver log_options aws_batch_tags
    privileged""".split()
)


@dataclass(frozen=True)
class Batch(Decorator):
    """Run this step on AWS Batch. ``None`` means: take it from ``@resources`` or the default."""

    NAME: ClassVar[str] = "batch"
    cpu: Optional[float] = None
    gpu: Optional[int] = None
    memory: Optional[int] = None
    image: Optional[str] = None
    queue: Optional[str] = None
    # Metaflow's other @batch arguments are accepted, so ported flows import;
    # they are recorded for the Batch executor as (name, value) pairs.
    extra: Tuple[Tuple[str, Any], ...] = field(default=())

    @classmethod
    def _check(cls, args: Dict[str, Any]) -> Dict[str, Any]:
        extra = tuple(sorted((k, args.pop(k)) for k in list(args) if k in _BATCH_PASSTHROUGH))
        extra = tuple((k, v) for k, v in extra if v is not None)
        return {
            "cpu": optional(positive_number)("cpu", args["cpu"]),
            "gpu": optional(whole)("gpu", args["gpu"]),
            "memory": optional(megabytes)("memory", args["memory"]),
            "image": text("image", args["image"]),
            "queue": text("queue", args["queue"]),
            "extra": extra,
        }


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
class Parallel(Decorator):
    """A gang step: ``self.next(self.train, num_parallel=N)`` starts N tasks of it together, each with
    ``current.parallel`` (num_nodes, node_index, main_ip, control_task_id); a join follows."""

    NAME: ClassVar[str] = "parallel"


STEP_DECORATORS: Dict[str, type] = {
    c.NAME: c for c in (Catch, Retry, Timeout, Resources, Environment, Conda, Pypi, Batch, Sandbox, Parallel)
}
FLOW_DECORATORS: Dict[str, type] = {c.NAME: c for c in (CondaBase, PypiBase, Project)}


# --- attaching specs to functions and classes


def _where(target: Any) -> Tuple[str, Optional[str], Optional[int]]:
    """A description of what is decorated, and its file and line, for errors."""
    code = getattr(target, "__code__", None)
    if code is not None:
        return "step '%s'" % target.__name__, _display_path(code.co_filename), code.co_firstlineno
    name = getattr(target, "__name__", repr(target))
    module = __import__("sys").modules.get(getattr(target, "__module__", ""), None)
    return "flow %s" % name, _display_path(getattr(module, "__file__", None)), _class_line(target)


def _class_line(cls: Any) -> Optional[int]:
    line = getattr(cls, "__firstlineno__", None)  # Python 3.13+
    if line is None:
        try:
            import inspect

            line = inspect.getsourcelines(cls)[1]
        except (OSError, TypeError):
            line = None
    return line


def _display_path(path: Optional[str]) -> Optional[str]:
    if not path:
        return None
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative


def build_spec(spec_class: type, kwargs: Dict[str, Any], target: Any) -> Decorator:
    """Validate ``kwargs`` for ``spec_class`` and return the frozen spec."""
    what, file, line = _where(target)
    valid = [f.name for f in fields(spec_class) if f.name not in ("extra", "given")]
    if spec_class is Batch:
        valid += list(_BATCH_PASSTHROUGH)
    unknown = sorted(k for k in kwargs if k not in valid)
    if unknown:
        raise FlowDefinitionError(
            "@%s on %s got an unknown argument '%s'." % (spec_class.NAME, what, unknown[0]),
            "Valid arguments are: %s." % ", ".join(valid),
            file=file,
            line=line,
        )
    args = {f.name: f.default for f in fields(spec_class) if f.name != "extra"}
    args.update(kwargs)
    if "given" in args:  # a spec that must tell an argument given from its default (@project)
        args["given"] = tuple(sorted(kwargs))
    try:
        checked = spec_class._check(args)
    except BadArgument as bad:
        raise FlowDefinitionError(
            "@%s on %s: %s" % (spec_class.NAME, what, bad.message), file=file, line=line
        ) from None
    return spec_class(**checked)


@dataclass(frozen=True)
class Pending:
    """A decorator whose arguments use configs: built by ``build_pending`` once their values are known."""

    spec_class: type
    kwargs: Tuple[Tuple[str, Any], ...]
    target: Any = field(compare=False)

    @property
    def NAME(self) -> str:  # noqa: N802 - read like a spec's NAME
        return self.spec_class.NAME

    def build(self, values: Dict[str, Any]) -> Decorator:
        from .user_configs import ConfigError, resolve

        try:
            kwargs = resolve(dict(self.kwargs), values)
        except ConfigError as err:
            what, file, line = _where(self.target)
            raise FlowDefinitionError("@%s on %s: %s" % (self.NAME, what, err.headline), err.hint, file=file, line=line)
        return build_spec(self.spec_class, kwargs, self.target)


def bind_configs(cls: type, values: Dict[str, Any]) -> None:
    """Give ``cls`` its config values and build the decorators that waited for them."""
    from .user_configs import store_values

    store_values(cls, values)
    build_pending(cls, values)


def build_pending(cls: type, values: Dict[str, Any]) -> None:
    """Build every pending decorator of ``cls`` (its steps' and its own) with these config values."""
    for name in dir(cls):
        func = getattr(cls, name, None)
        recorded = getattr(func, _STEP_ATTR, None)
        if recorded is not None and any(isinstance(d, Pending) for d in recorded):
            func.__dict__[_BUILT_ATTR] = [d.build(values) if isinstance(d, Pending) else d for d in recorded]
    recorded_flow = getattr(cls, _FLOW_ATTR, {})
    if any(isinstance(d, Pending) for d in recorded_flow.values()):
        built = {k: d.build(values) if isinstance(d, Pending) else d for k, d in recorded_flow.items()}
        type.__setattr__(cls, _FLOW_BUILT_ATTR, built)


def _record(spec_class: type, kwargs: Dict[str, Any], target: Any) -> Any:
    """The spec, or a ``Pending`` when an argument waits for a config's value."""
    from .user_configs import has_delayed

    if has_delayed(kwargs):
        return Pending(spec_class, tuple(kwargs.items()), target)
    return build_spec(spec_class, kwargs, target)


def _attach_step(spec_class: type, kwargs: Dict[str, Any], func: Any) -> Any:
    if isinstance(func, type):
        flow_name = "@%s_base" % spec_class.NAME if spec_class.NAME + "_base" in FLOW_DECORATORS else None
        what, file, line = _where(func)
        raise FlowDefinitionError(
            "@%s decorates a step, not the flow class %s." % (spec_class.NAME, func.__name__),
            "Use %s on the class." % flow_name if flow_name else "Put it on a @step method.",
            file=file,
            line=line,
        )
    if not callable(func) or not hasattr(func, "__code__"):
        raise FlowDefinitionError("@%s must decorate a step method, not %r." % (spec_class.NAME, func))
    spec = _record(spec_class, kwargs, func)
    existing: List[Decorator] = func.__dict__.setdefault(_STEP_ATTR, [])
    if any(d.NAME == spec.NAME for d in existing):
        _, file, line = _where(func)
        raise FlowDefinitionError(
            "@%s is applied twice to step '%s'." % (spec.NAME, func.__name__),
            "Keep one and merge their arguments.",
            file=file,
            line=line,
        )
    existing.insert(0, spec)  # decorators apply bottom-up; keep source order
    return func


def _attach_flow(spec_class: type, kwargs: Dict[str, Any], cls: Any) -> Any:
    if not isinstance(cls, type):
        what, file, line = _where(cls)
        step_name = spec_class.NAME[: -len("_base")]
        raise FlowDefinitionError(
            "@%s decorates the flow class, not %s." % (spec_class.NAME, what),
            "Use @%s on a step." % step_name,
            file=file,
            line=line,
        )
    spec = _record(spec_class, kwargs, cls)
    own = dict(cls.__dict__.get(_FLOW_ATTR, {}))
    if spec.NAME in own:
        _, file, line = _where(cls)
        raise FlowDefinitionError("@%s is applied twice to flow %s." % (spec.NAME, cls.__name__), file=file, line=line)
    inherited = dict(getattr(cls, _FLOW_ATTR, {}))
    inherited.update(own)
    inherited[spec.NAME] = spec
    setattr(cls, _FLOW_ATTR, inherited)
    return cls


def _decorator_function(spec_class: type) -> Callable[..., Any]:
    attach = _attach_flow if spec_class.IS_FLOW else _attach_step

    def attach_reporting(kwargs: Dict[str, Any], target: Any) -> Any:
        try:
            return attach(spec_class, kwargs, target)
        except FlowDefinitionError:
            install_script_excepthook()
            raise

    def decorator(target: Any = None, **kwargs: Any) -> Any:
        if target is not None:
            if kwargs or not (callable(target) or isinstance(target, type)):
                raise FlowDefinitionError(
                    "@%s takes keyword arguments only, e.g. @%s(%s=...)."
                    % (spec_class.NAME, spec_class.NAME, fields(spec_class)[0].name)
                )
            return attach_reporting({}, target)
        return lambda obj: attach_reporting(kwargs, obj)

    decorator.__name__ = spec_class.NAME
    decorator.__qualname__ = spec_class.NAME
    decorator.__doc__ = spec_class.__doc__
    return decorator


catch = _decorator_function(Catch)
retry = _decorator_function(Retry)
timeout = _decorator_function(Timeout)
resources = _decorator_function(Resources)
environment = _decorator_function(Environment)
conda = _decorator_function(Conda)
pypi = _decorator_function(Pypi)
batch = _decorator_function(Batch)
sandbox = _decorator_function(Sandbox)
parallel = _decorator_function(Parallel)
conda_base = _decorator_function(CondaBase)
pypi_base = _decorator_function(PypiBase)
project = _decorator_function(Project)


def step(func: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a method of a FlowSpec as a step of the flow."""
    if isinstance(func, type) or not hasattr(func, "__code__"):
        raise FlowDefinitionError("@step must decorate a method of a FlowSpec class, not %r." % (func,))
    func.is_step = True  # Metaflow's markers, kept for code that inspects them
    func.name = func.__name__
    func.__dict__.setdefault(_STEP_ATTR, [])
    return func


def is_step(func: Any) -> bool:
    return bool(getattr(func, "is_step", False)) and hasattr(func, _STEP_ATTR)


def step_decorators(func: Any) -> Tuple[Decorator, ...]:
    """The specs recorded on a step function, in source order. A decorator that uses configs is
    there once the flow's configs are bound (``user_configs.bind``)."""
    built = getattr(func, _BUILT_ATTR, None)
    recorded = built if built is not None else getattr(func, _STEP_ATTR, ())
    return tuple(d for d in recorded if not isinstance(d, Pending))


def flow_decorators(cls: Any) -> Dict[str, Decorator]:
    """The flow-level specs recorded on a flow class (inherited ones included); see step_decorators."""
    built = cls.__dict__.get(_FLOW_BUILT_ATTR) if isinstance(cls, type) else None
    recorded = built if built is not None else getattr(cls, _FLOW_ATTR, {})
    return {k: d for k, d in recorded.items() if not isinstance(d, Pending)}
