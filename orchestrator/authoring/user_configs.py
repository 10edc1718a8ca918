"""``Config`` and ``config_expr``: flow configuration fixed before a run starts (Metaflow 2.13+).

A ``Config`` is a class attribute of the flow, like a ``Parameter``, but its
value is known before anything is planned, so decorator arguments may use it:
``@resources(cpu=cfg.cpu)`` or ``@project(name=config_expr("cfg").project)``.
While the class body runs the value is not known yet (``python flow.py run
--config-value cfg '{...}'`` imports the flow before it parses its command
line), so ``cfg.cpu`` is a ``DelayEvaluator``: a recorded expression. A
decorator given one is kept pending (see ``decorators``) and built when
``bind`` gives the class its values: on the host once the command line is
parsed, and in every task from the values the run recorded.

In steps a config is read-only: ``self.cfg.key`` and ``self.cfg["key"]`` read a
``ConfigValue``, which raises ``TypeError`` on any change, as Metaflow's does.

Task-side code: standard library only, Python 3.8 compatible.
"""

from __future__ import annotations

import collections.abc
import importlib
import json
import os
import re
import sys
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Mapping, NamedTuple, Optional, Tuple

from ..errors import FlowDefinitionError, UsageError, caller_location
from .flowattr import FlowAttribute

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
UNPACK_KEY = "_orch_unpacked_config_"  # a ``**cfg`` in decorator keyword arguments leaves this key


class ConfigError(UsageError):
    """A config value is missing, unreadable or malformed, or an expression over configs failed."""


class ConfigParserError(ConfigError):
    """The flow's own parser raised: the flow's code failed, not the command line (exit 1, as Metaflow)."""

    exit_code = 1


class ConfigValue(collections.abc.Mapping, dict):
    """An immutable, nested configuration: ``cfg.a.b`` and ``cfg["a"]["b"]`` both read it.

    It is a ``dict`` too, so ``json.dumps`` and ``isinstance(v, dict)`` work and it compares
    equal to the plain dict it came from.
    """

    def __init__(self, data: Mapping[str, Any]) -> None:
        converted = {k: _frozen(v) for k, v in data.items()}
        object.__setattr__(self, "_data", converted)
        dict.__init__(self, converted)

    def to_dict(self) -> Dict[str, Any]:
        """A plain, mutable copy (nested mappings become dicts)."""
        return _thawed(self)

    def __getattr__(self, key: str) -> Any:
        if key == "_data":  # during unpickling, before __init__
            raise AttributeError(key)
        try:
            return self._data[key]
        except KeyError:
            raise AttributeError(key) from None

    def __getitem__(self, key: Any) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: Any) -> bool:
        return key in self._data

    def keys(self):  # type: ignore[override]
        return self._data.keys()

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, dict) and self._data == dict(other)

    def __ne__(self, other: Any) -> bool:
        return not self.__eq__(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self._data)

    def __reduce__(self) -> Any:
        return (self.__class__, (self.to_dict(),))

    def __dir__(self) -> List[str]:
        return sorted(set(dir(type(self))) | {k for k in self._data if isinstance(k, str) and _IDENTIFIER.match(k)})

    def _immutable(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("ConfigValue is immutable")

    __setattr__ = __setitem__ = __delattr__ = __delitem__ = _immutable
    clear = update = setdefault = pop = popitem = _immutable


def _frozen(value: Any) -> Any:
    if isinstance(value, ConfigValue):
        return value
    if isinstance(value, collections.abc.Mapping):
        return ConfigValue(value)
    if isinstance(value, (list, tuple, set)):
        return type(value)(_frozen(v) for v in value)
    return value


def _thawed(value: Any) -> Any:
    if isinstance(value, collections.abc.Mapping):
        return {k: _thawed(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return type(value)(_thawed(v) for v in value)
    return value


class DelayEvaluator(collections.abc.Mapping):
    """An expression over a flow's configs, evaluated once their values are known.

    ``config_expr("cfg")`` or ``cfg`` (a ``Config``) start one; attribute and item
    access extend it (``cfg.a["b"]``); ``**cfg`` unpacks it into keyword arguments.
    """

    def __init__(self, expr: str, namespace: Optional[Dict[str, Any]] = None, path: Tuple[Any, ...] = ()) -> None:
        object.__setattr__(self, "_expr", expr)
        object.__setattr__(self, "_namespace", namespace)
        object.__setattr__(self, "_path", path)

    def _extended(self, key: Any) -> DelayEvaluator:
        return DelayEvaluator(self._expr, self._namespace, self._path + (key,))

    def __getattr__(self, name: str) -> DelayEvaluator:
        if name.startswith("__") or name.startswith("_orch") or name in ("_expr", "_namespace", "_path"):
            raise AttributeError(name)
        return self._extended(name)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str) and key.startswith(UNPACK_KEY):  # ``**expr``: the value is the whole expression
            return self
        return self._extended(key)

    @property
    def _unpack_key(self) -> str:
        return "%s%d" % (UNPACK_KEY, id(self))

    def __iter__(self) -> Iterator[str]:
        yield self._unpack_key

    def __len__(self) -> int:
        return 1

    def __repr__(self) -> str:
        return "config_expr(%r)%s" % (self._expr, "".join("[%r]" % (p,) for p in self._path))

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        """The expression's value, with each config's name bound to its value."""
        namespace = dict(self._namespace or {})
        try:
            value = eval(self._expr, namespace, dict(values))  # noqa: S307 - the flow author's own expression
        except Exception as exc:
            raise ConfigError(
                "Config expression %r failed: %s: %s" % (self._expr, type(exc).__name__, exc),
                "Use the names of the flow's configs: %s." % (", ".join(sorted(values)) or "none defined"),
            ) from None
        for key in self._path:
            key = key.evaluate(values) if isinstance(key, DelayEvaluator) else key
            try:
                value = (
                    value[key] if isinstance(value, collections.abc.Mapping) and key in value else getattr(value, key)
                )
            except (AttributeError, TypeError, KeyError):
                raise ConfigError("Config expression %r: the value has no key %r." % (self._expr, key)) from None
        return value


def config_expr(expr: str) -> DelayEvaluator:
    """An expression over the flow's configs, for places a config is not in scope (flow decorators)
    or that need more than a lookup: ``@project(name=config_expr("cfg").project)``,
    ``@environment(vars={"x": config_expr("str(cfg.n)")})``. Names of the calling module are
    visible in the expression."""
    if not isinstance(expr, str) or not expr.strip():
        raise FlowDefinitionError("config_expr() takes a Python expression as a string, e.g. config_expr('cfg.a').")
    caller = sys._getframe(1).f_globals
    return DelayEvaluator(expr.strip(), caller)


def has_delayed(value: Any) -> bool:
    """Whether a decorator argument holds a config expression anywhere inside it."""
    if isinstance(value, (DelayEvaluator, Config)):
        return True
    if isinstance(value, dict):
        return any(has_delayed(k) or has_delayed(v) for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return any(has_delayed(v) for v in value)
    return False


def resolve(value: Any, values: Mapping[str, Any]) -> Any:
    """``value`` with every config expression in it evaluated; ``**cfg`` keys are expanded.
    Mappings come out as plain dicts, so decorator checks see ordinary values."""
    if isinstance(value, Config):
        value = DelayEvaluator(value.name)
    if isinstance(value, DelayEvaluator):
        return _thawed(value.evaluate(values))
    if isinstance(value, dict):
        out: Dict[Any, Any] = {}
        for key, item in value.items():
            if isinstance(key, str) and key.startswith(UNPACK_KEY):
                expanded = resolve(item, values)
                if not isinstance(expanded, collections.abc.Mapping):
                    raise ConfigError("**%r does not unpack: its value is not a mapping." % (item,))
                out.update(expanded)
            else:
                out[resolve(key, values)] = resolve(item, values)
        return out
    if isinstance(value, (list, tuple, set)):
        return type(value)(resolve(v, values) for v in value)
    return value


class Config(FlowAttribute, collections.abc.Mapping):
    """A configuration of the flow, fixed before the run starts and read-only in every step.

    ``Config("cfg", default="cfg.json")`` reads a file (``--config cfg other.json``
    replaces it), ``Config("cfg", default_value={...})`` is a value
    (``--config-value cfg '{...}'`` replaces it); either default may be a function
    of the ``ParameterContext``. ``parser`` turns the text into a mapping (a
    function, or its dotted name); without one the text is JSON. ``plain=True``
    keeps the parsed value as it is instead of a ``ConfigValue``.
    """

    IS_CONFIG_PARAMETER = True

    def __init__(
        self,
        name: str,
        default: Any = None,
        default_value: Any = None,
        help: Optional[str] = None,  # noqa: A002 - Metaflow's keyword name
        required: Optional[bool] = None,
        parser: Any = None,
        plain: bool = False,
        **kwargs: Any,
    ) -> None:
        self.file, self.line = caller_location(__file__)
        if not isinstance(name, str) or not _NAME.match(name):
            self._fail("Config name %r is invalid." % (name,), "Use letters, digits, '_' and '-', e.g. Config('cfg').")
        if default is not None and default_value is not None:
            self._fail("Config '%s' takes default= (a file) or default_value= (a value), not both." % name)
        if parser is not None and not (callable(parser) or isinstance(parser, str)):
            self._fail("Config '%s': parser= must be a function or its dotted name, not %r." % (name, parser))
        unknown = sorted(set(kwargs) - {"show_default"})
        if unknown:
            self._fail("Config '%s' got an unknown argument '%s'." % (name, unknown[0]))
        self.name = name
        self.attr: Optional[str] = None
        self.default = default
        self.default_value = default_value
        self.help = help
        self.required = bool(required)
        self.parser = parser
        self.plain = bool(plain)

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        """In a step, the run's value, read-only (a ``ConfigValue``): the artifact itself is a plain dict,
        as Metaflow stores it, so clients and ``dump`` see a dict."""
        value = super().__get__(instance, owner)
        if instance is None or self.plain or not isinstance(value, dict) or isinstance(value, ConfigValue):
            return value
        frozen = ConfigValue(value)
        instance.__dict__[self.attr or self.name] = frozen  # read from the store once, frozen once
        return frozen

    def _outside_a_task(self, cls: type) -> Any:
        return bound_values(cls).get(self.name)  # the class's bound value

    # In the class body (``cfg.key``, ``cfg["key"]``, ``**cfg``) a Config stands for its future value.
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in ("file", "line", "name", "attr"):
            raise AttributeError(name)
        return getattr(DelayEvaluator(self.name), name)

    def __getitem__(self, key: Any) -> Any:
        return DelayEvaluator(self.name)[key]

    def __iter__(self) -> Iterator[str]:
        return iter(DelayEvaluator(self.name))

    def __len__(self) -> int:
        return 1

    def __repr__(self) -> str:
        return "Config(%r)" % self.name

    @property
    def option(self) -> str:
        return "config '%s'" % self.name

    def from_stored(self, value: Any, origin: str) -> Any:
        """The value a run stored (a plain dict, Metaflow's artifact) as steps and decorators read it: a
        ``ConfigValue`` again, or the value itself for a ``plain`` config (never parsed a second time)."""
        return value if self.plain else self.parse(value, origin)

    def parse(self, text: Any, origin: str) -> Any:
        """The value of the config from its text (or from a default that is already a value)."""
        if not isinstance(text, str):
            value = text
        elif self.parser is not None:
            parser = _parser(self.parser, self.name)
            try:
                value = parser(text)
            except Exception as exc:  # the user's parser: report, never crash
                raise ConfigParserError(
                    "Config '%s' (%s): the parser failed: %s: %s" % (self.name, origin, type(exc).__name__, exc)
                ) from None
        elif self.plain:
            value = text
        else:
            try:
                value = json.loads(text)
            except ValueError as exc:
                raise ConfigError(
                    "Config '%s' (%s) is not valid JSON: %s." % (self.name, origin, exc),
                    "Give a JSON document, or add parser= to the Config.",
                ) from None
        if not self.plain and value is not None and not isinstance(value, collections.abc.Mapping):
            raise ConfigError(
                "Config '%s' (%s) is a %s, not a mapping." % (self.name, origin, type(value).__name__),
                "Give a JSON object, or pass plain=True to keep any value as it is.",
            )
        return value if self.plain or value is None else ConfigValue(value)


def _parser(parser: Any, name: str) -> Callable[[str], Any]:
    if callable(parser):
        return parser
    module_name, _, attr = parser.rpartition(".")
    try:
        found = getattr(importlib.import_module(module_name), attr) if module_name else None
    except ImportError:
        found = None
    if not callable(found):
        raise ConfigError(
            "Config '%s': parser %r cannot be imported." % (name, parser), "Name it as 'module.function'."
        )
    return found


class ParameterContext(NamedTuple):
    """What a callable default receives, as Metaflow's: ``ctx.flow_name``, ``ctx.configs.cfg``..."""

    flow_name: str
    user_name: str
    parameter_name: str
    logger: Callable[..., Any]
    ds_type: str
    configs: Any


class _Configs:
    """``ctx.configs``: each bound config by attribute and by item."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = dict(values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[Tuple[str, Any]]:
        return iter(self._values.items())


def parameter_context(flow_name: str, user: str, name: str, configs: Optional[Mapping[str, Any]]) -> ParameterContext:
    def log(*args: Any, **kwargs: Any) -> None:
        print(*args, file=sys.stderr)

    return ParameterContext(flow_name, user, name, log, "local", None if configs is None else _Configs(configs))


@dataclass(frozen=True)
class ConfigInputs:
    """Config values a user gave: ``--config NAME FILE`` (files), ``--config-value NAME VALUE``
    (texts), and values already parsed (``parsed``: a resumed run's, from its origin).

    ``from_env`` adds Metaflow's ``METAFLOW_FLOW_CONFIG`` / ``METAFLOW_FLOW_CONFIG_VALUE`` (and the
    ``ORCH_`` twins): JSON objects of name → file and name → value. Command-line values win.
    """

    files: Tuple[Tuple[str, str], ...] = ()
    values: Tuple[Tuple[str, str], ...] = ()
    parsed: Tuple[Tuple[str, Any], ...] = ()

    @property
    def names(self) -> Tuple[str, ...]:
        return tuple(name for name, _ in self.files + self.values + self.parsed)

    def merged(self, other: ConfigInputs) -> ConfigInputs:
        """These inputs, with ``other``'s replacing them name by name."""
        replaced = set(other.names)
        return ConfigInputs(
            *(
                tuple((n, v) for n, v in mine if n not in replaced) + theirs
                for mine, theirs in zip(
                    (self.files, self.values, self.parsed), (other.files, other.values, other.parsed)
                )
            )
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ConfigInputs:
        found = ConfigInputs()
        for prefix in ("METAFLOW", "ORCH"):
            files = _env_object(env, prefix + "_FLOW_CONFIG")
            values = _env_object(env, prefix + "_FLOW_CONFIG_VALUE")
            both = sorted(set(files) & set(values))
            if both:
                raise ConfigError(
                    "Config '%s' has both a file and a value in %s_FLOW_CONFIG(_VALUE)." % (both[0], prefix),
                    "Give one of them.",
                )
            found = found.merged(
                ConfigInputs(
                    tuple((k, str(v)) for k, v in files.items()),
                    tuple((k, v if isinstance(v, str) else json.dumps(v)) for k, v in values.items()),
                )
            )
        return found


def _env_object(env: Mapping[str, str], name: str) -> Dict[str, Any]:
    text = env.get(name)
    if not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ConfigError(
            "%s must be a JSON object of config name -> %s." % (name, "value" if "VALUE" in name else "file")
        )
    return data


def flow_configs(cls: type) -> List[Tuple[str, Config]]:
    """(attribute, Config) pairs of a flow class, inherited ones included, in name order."""
    found: Dict[str, Config] = {}
    for klass in reversed(cls.__mro__):
        for attr, value in vars(klass).items():
            if isinstance(value, Config):
                found[attr] = value
            elif attr in found:
                del found[attr]
    return sorted(found.items())


def compute_values(cls: type, given: ConfigInputs, user: str = "", base_dir: str = ".") -> Dict[str, Any]:
    """name → value of every config of ``cls``: what the user gave, else its default."""
    configs = {c.name: c for _, c in flow_configs(cls)}
    for name, _ in given.files + given.values:
        if name not in configs:
            raise ConfigError(
                "Unknown config '%s'." % name,
                "The flow's configs are: %s." % (", ".join(sorted(configs)) if configs else "none"),
            )
    both = sorted(set(dict(given.files)) & set(dict(given.values)))
    if both:
        raise ConfigError(
            "Config '%s' was given both a file and a value." % both[0], "Give --config or --config-value, not both."
        )
    files, texts, parsed = dict(given.files), dict(given.values), dict(given.parsed)
    values: Dict[str, Any] = {}
    for name, config in sorted(configs.items()):
        context = parameter_context(cls.__name__, user, name, None)
        if name in parsed:  # a resumed run's: stored as a plain dict, parsed again into a ConfigValue
            value = config.from_stored(parsed[name], "the origin run")
        elif name in files:
            value = config.parse(_read(files[name], base_dir, name, "--config"), "file %s" % files[name])
        elif name in texts:
            value = config.parse(texts[name], "--config-value")
        elif config.default is not None:
            path = config.default(context) if callable(config.default) else config.default
            value = config.parse(_read(str(path), base_dir, name, "default"), "file %s" % path)
        elif config.default_value is not None:
            default = config.default_value
            default = default(context) if callable(default) else default
            value = config.parse(default, "default_value")
        else:
            value = None
        if value is None and config.required:
            raise ConfigError(
                "Missing required config '%s'." % name,
                "Give it with --config %s FILE or --config-value %s JSON." % (name, name),
            )
        values[name] = value
    return values


def _read(path: str, base_dir: str, name: str, origin: str) -> str:
    full = path if os.path.isabs(path) or os.path.exists(path) else os.path.join(base_dir, path)
    try:
        with open(full, encoding="utf-8") as handle:
            return handle.read()
    except OSError as err:
        what = "default configuration file" if origin == "default" else "configuration file"
        raise ConfigError(
            "The %s '%s' could not be read for config '%s': %s." % (what, path, name, err.strerror or err),
            "Give an existing file with --config %s FILE." % name,
        ) from None


_BOUND = "_orch_config_values"


def store_values(cls: type, values: Mapping[str, Any]) -> None:
    """Keep a flow class's config values on it (``decorators.bind_configs`` also builds what waited)."""
    type.__setattr__(cls, _BOUND, dict(values))


def stored(value: Any) -> Any:
    """A config's value as the run stores it: a plain dict for a ``ConfigValue`` (Metaflow's artifact)."""
    return value.to_dict() if isinstance(value, ConfigValue) else value


def bound_values(cls: type) -> Dict[str, Any]:
    """The values ``bind`` gave ``cls`` (empty before)."""
    return dict(cls.__dict__.get(_BOUND) or {})


def is_bound(cls: type) -> bool:
    return _BOUND in cls.__dict__
