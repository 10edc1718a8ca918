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
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..backends.batch.decorator import Batch
from ..errors import FlowDefinitionError, install_script_excepthook
from .argcheck import BadArgument
from .decorator_specs import (  # noqa: F401 - re-exported: the specs are read through this module
    FLOW_DECORATORS,
    HIDDEN,
    STEP_DECORATORS,
    Cache,
    Card,
    Catch,
    Conda,
    CondaBase,
    Decorator,
    Environment,
    ExitHook,
    Parallel,
    Project,
    Pypi,
    PypiBase,
    Resources,
    Retry,
    Sandbox,
    Secrets,
    Timeout,
)
from .event_specs import Schedule, Trigger, TriggerOnFinish

_STEP_ATTR = "_orch_decorators"
_FLOW_ATTR = "_orch_flow_decorators"
_BUILT_ATTR = "_orch_built_decorators"  # with config values: the step's specs, pending ones built
_FLOW_BUILT_ATTR = "_orch_built_flow_decorators"


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
    valid += list(spec_class.PASSTHROUGH)
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
    if any(d.NAME == spec.NAME for d in existing) and not getattr(spec_class, "MULTIPLE", False):
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
    if spec.NAME in own and getattr(spec_class, "MULTIPLE", False) and not isinstance(own[spec.NAME], Pending):
        spec = own[spec.NAME].combined(spec)  # decorators apply bottom-up: the lower one's hooks run first
    elif spec.NAME in own:
        _, file, line = _where(cls)
        raise FlowDefinitionError("@%s is applied twice to flow %s." % (spec.NAME, cls.__name__), file=file, line=line)
    inherited = dict(getattr(cls, _FLOW_ATTR, {}))
    inherited.update(own)
    inherited[spec.NAME] = spec
    setattr(cls, _FLOW_ATTR, inherited)
    return cls


def decorator_for(spec_class: type) -> Callable[..., Any]:
    """The ``@name`` function that records ``spec_class`` on a step (or, with ``IS_FLOW``, the flow):
    orch's own decorators and the plugins' are made the same way."""
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


catch = decorator_for(Catch)
retry = decorator_for(Retry)
timeout = decorator_for(Timeout)
resources = decorator_for(Resources)
environment = decorator_for(Environment)
conda = decorator_for(Conda)
pypi = decorator_for(Pypi)
batch = decorator_for(Batch)
sandbox = decorator_for(Sandbox)
parallel = decorator_for(Parallel)
secrets = decorator_for(Secrets)
cache = decorator_for(Cache)
card = decorator_for(Card)
conda_base = decorator_for(CondaBase)
pypi_base = decorator_for(PypiBase)
project = decorator_for(Project)
exit_hook = decorator_for(ExitHook)
schedule = decorator_for(Schedule)
trigger = decorator_for(Trigger)
trigger_on_finish = decorator_for(TriggerOnFinish)


def plugin_decorator(name: str) -> Optional[Callable[..., Any]]:
    """``from orchestrator import NAME`` for a decorator an installed plugin registers (``orch.decorators``
    entry points); None when no plugin has one by that name."""
    from ..backends import registry

    found = registry.plugin_decorator(name)
    return decorator_for(found) if found is not None else None


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
