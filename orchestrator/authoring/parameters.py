"""Flow parameters: ``Parameter``, ``IncludeFile`` and ``JSONType``.

A parameter is a class attribute of the flow. Its value is given on the
command line (``--alpha 0.5``), checked and converted here before anything
runs, and then visible as ``self.alpha`` in every step. As in Metaflow the
type is inferred from the default when not given.

Task-side code: standard library only, Python 3.8 compatible.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import types
from typing import Any, Optional, Tuple

from ..errors import ParameterError, caller_location
from .flowattr import FlowAttribute

_PARAM_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")
# click.Option's own keywords, which Metaflow passes through to the option a Parameter becomes: accepted
# here too. ``multiple`` changes what the value is; the others are kept but change nothing in orch.
_CLICK_KEYWORDS = frozenset(
    "multiple envvar hidden metavar show_envvar show_choices prompt hide_input confirmation_prompt "
    "prompt_required allow_from_autoenv is_flag flag_value count nargs deprecated".split()
)
_TRUE = {"true", "t", "yes", "y", "1", "on"}
_FALSE = {"false", "f", "no", "n", "0", "off"}


class JSONTypeClass:
    """A parameter type whose value is a JSON document."""

    name = "JSON"

    def convert(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        return json.loads(value)

    def __repr__(self) -> str:
        return "JSONType"


JSONType = JSONTypeClass()
_SUPPORTED_TYPES = (str, int, float, bool)


def _type_name(kind: Any) -> str:
    return kind.name if isinstance(kind, JSONTypeClass) else kind.__name__


class Parameter(FlowAttribute):
    """A value given on the command line at ``run`` time.

    ``Parameter('alpha', default=0.01, help='learning rate')`` is an ``--alpha``
    option of type float. ``type`` may be str, int, float, bool or JSONType;
    without it the type is that of ``default`` (str when there is none).
    ``separator`` splits a string value into a list of that type.
    """

    IS_FILE = False

    def __init__(
        self,
        name: str,
        default: Any = None,
        type: Any = None,  # noqa: A002 - Metaflow's keyword name
        help: Optional[str] = None,  # noqa: A002 - Metaflow's keyword name
        required: bool = False,
        show_default: bool = True,
        separator: Optional[str] = None,
        **kwargs: Any,
    ) -> None:
        self.file, self.line = caller_location(__file__)
        unknown = sorted(set(kwargs) - _CLICK_KEYWORDS)
        if unknown:
            self._fail(
                "Parameter %r got an unexpected keyword argument %r." % (name, unknown[0]),
                "Parameter takes default, type, help, required, show_default, separator, and click's option "
                "keywords (multiple, envvar, hidden, metavar...).",
            )
        self.kwargs = dict(kwargs)
        self.multiple = bool(kwargs.get("multiple", False))  # --name a --name b gives the tuple ('a', 'b')
        if not isinstance(name, str) or not _PARAM_NAME.match(name):
            self._fail(
                "Parameter name %r is invalid." % (name,),
                "Use letters, digits, '_' and '-', starting with a letter, e.g. Parameter('alpha').",
            )
        self.name = name
        self.attr: Optional[str] = None
        self.help = help
        self.required = bool(required)
        self.show_default = show_default
        self.separator = separator
        self.default = default
        self.type = self._resolve_type(type, default)
        if default is not None and not callable(default) and not _is_delayed(default):
            try:
                self.default = (
                    self.convert(default) if separator is not None or self.multiple else self._convert_one(default)
                )
            except ParameterError as err:
                self._fail("Parameter '%s' has a default that does not fit its type: %s" % (name, err.headline))

    def _resolve_type(self, kind: Any, default: Any) -> Any:
        if kind is None and self.multiple and isinstance(default, (list, tuple)):
            default = default[0] if default else None  # the values' type, not the tuple's
        if kind is None:
            if default is None or callable(default) or _is_delayed(default):
                return str
            if isinstance(default, (dict, list)):
                return JSONType
            kind = type(default)
        if kind in _SUPPORTED_TYPES or isinstance(kind, JSONTypeClass):
            return kind
        self._fail(
            "Parameter '%s' has an unsupported type %r." % (self.name, kind),
            "Use str, int, float, bool or JSONType.",
        )
        return None  # unreachable: _fail raises

    def _outside_a_task(self, cls: type) -> Any:
        return self.resolve_default(cls.__name__)

    @property
    def type_name(self) -> str:
        return _type_name(self.type)

    @property
    def option(self) -> str:
        return "--" + self.name

    def resolve_default(self, flow_name: str = "", user: str = "", configs: Optional[dict] = None) -> Any:
        """The default value. A callable default is called once at run start with Metaflow's
        ``ParameterContext`` (``ctx.flow_name``, ``ctx.configs.cfg``...); a ``config_expr`` is
        evaluated over the flow's configs."""
        if _is_delayed(self.default):
            from .user_configs import ConfigError, resolve

            try:
                return self.convert(resolve(self.default, configs or {}))
            except ConfigError as err:
                raise ParameterError("%s: the default failed: %s" % (self.option, err.headline)) from None
        if callable(self.default):
            from .user_configs import parameter_context

            context = parameter_context(flow_name, user, self.name, configs or {})
            try:
                value = self.default(context)
            except Exception as exc:  # user code: report, never crash
                raise ParameterError(
                    "%s: computing the default failed: %s: %s" % (self.option, type(exc).__name__, exc)
                ) from None
            return self.convert(value)
        if self.multiple and self.default is None:
            return ()  # click's value for a multiple option given no times
        return self.default

    def convert(self, value: Any) -> Any:
        """Turn a command-line string (or a Python value) into the typed value; with ``multiple``, a
        list of them (the option given several times, or a default list) into a tuple, as click gives."""
        if self.multiple:
            values = value.split() if isinstance(value, str) else value if isinstance(value, (list, tuple)) else [value]
            return tuple(self._convert_one(one) for one in values)
        if self.separator is not None and isinstance(value, str):
            return [self._convert_one(part) for part in value.split(self.separator)]
        if self.separator is not None and isinstance(value, (list, tuple)):
            return [self._convert_one(part) for part in value]
        return self._convert_one(value)

    def _convert_one(self, value: Any) -> Any:
        kind = self.type
        try:
            if isinstance(kind, JSONTypeClass):
                return kind.convert(value)
            if kind is bool:
                return _to_bool(value)
            if kind is int and isinstance(value, float) and not value.is_integer():
                raise ValueError
            if kind in (int, float) and isinstance(value, bool):
                raise ValueError
            return kind(value.strip() if isinstance(value, str) and kind is not str else value)
        except (TypeError, ValueError):
            raise ParameterError(
                "%s: %r is not a valid %s." % (self.option, value, self.type_name),
                _example(kind, self.option),
            ) from None

    def __repr__(self) -> str:
        return "Parameter(%r, type=%s, default=%r)" % (self.name, self.type_name, self.default)


def _is_delayed(value: Any) -> bool:
    from .user_configs import DelayEvaluator

    return isinstance(value, DelayEvaluator)


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ValueError(value)


def _example(kind: Any, option: str) -> str:
    samples = {int: "42", float: "0.5", bool: "true", str: "text"}
    if isinstance(kind, JSONTypeClass):
        return "Give a JSON document, e.g. %s '{\"a\": 1}'." % option
    return "Give e.g. %s %s." % (option, samples.get(kind, "value"))


class IncludeFile(Parameter):
    """A local file whose contents become an artifact when the run starts.

    ``--name PATH`` names the file; steps see its contents as ``self.<attr>``:
    ``str`` decoded with ``encoding`` when ``is_text``, else ``bytes``.
    """

    IS_FILE = True

    def __init__(
        self,
        name: str,
        required: bool = False,
        is_text: bool = True,
        encoding: str = "utf-8",
        help: Optional[str] = None,  # noqa: A002 - Metaflow's keyword name
        default: Optional[str] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name, default=default, type=str, help=help, required=required, **kwargs)
        self.is_text = bool(is_text)
        self.encoding = encoding
        try:
            "".encode(encoding)
        except LookupError:
            self._fail("IncludeFile '%s' has an unknown encoding %r." % (name, encoding), "Use e.g. 'utf-8'.")

    def read(self, path: str, base_dir: str = ".") -> Any:
        """Read the named file: text or bytes. Errors name the option and path."""
        full = path if os.path.isabs(path) else os.path.join(base_dir, path)
        try:
            with open(full, "rb") as handle:
                data = handle.read()
        except FileNotFoundError:
            raise ParameterError(
                "%s: file '%s' does not exist." % (self.option, path), "Give the path of an existing file."
            ) from None
        except IsADirectoryError:
            raise ParameterError("%s: '%s' is a directory, not a file." % (self.option, path)) from None
        except OSError as err:
            raise ParameterError("%s: cannot read '%s': %s." % (self.option, path, err.strerror)) from None
        if not self.is_text:
            return data
        try:
            return data.decode(self.encoding)
        except UnicodeDecodeError as err:
            raise ParameterError(
                "%s: '%s' is not valid %s text (byte %d)." % (self.option, path, self.encoding, err.start),
                "Pass is_text=False to read it as bytes, or set encoding=.",
            ) from None

    def __repr__(self) -> str:
        return "IncludeFile(%r, is_text=%r)" % (self.name, self.is_text)


def flow_parameters(cls: type) -> list[Tuple[str, Parameter]]:
    """(attribute, Parameter) pairs of a flow class, inherited ones included, in name order."""
    found = {}
    for klass in reversed(cls.__mro__):
        for attr, value in vars(klass).items():
            if isinstance(value, Parameter):
                found[attr] = value
            elif attr in found:
                del found[attr]
    return sorted(found.items())


def flow_constants(cls: type, base: type) -> list[Tuple[str, Any]]:
    """(attribute, value) of a flow class's plain class-level values, in name order: what Metaflow
    passes down to every task as a read-only artifact (``str_const = "x"`` at class level).

    Everything ``base`` (FlowSpec) defines, private names, parameters, and functions, properties,
    classes and modules are left out, as Metaflow leaves them out (modules cannot be pickled).
    """
    own = set(dir(base))
    found = []
    for attr in sorted(dir(cls)):
        if attr.startswith("_") or attr in own:
            continue
        value = inspect.getattr_static(cls, attr)
        if isinstance(value, (Parameter, property, type, staticmethod, classmethod, types.ModuleType)):
            continue
        if isinstance(value, (types.FunctionType, types.MethodType)) or callable(getattr(value, "__get__", None)):
            continue
        found.append((attr, value))
    return found
