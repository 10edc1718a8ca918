"""Parameters: types inferred as Metaflow does, values checked with messages naming the option."""

from __future__ import annotations

import pytest

from orchestrator import IncludeFile, JSONType, Parameter
from orchestrator.errors import FlowDefinitionError, ParameterError


@pytest.mark.parametrize(
    "default, kind",
    [(None, str), ("x", str), (3, int), (0.5, float), (True, bool), ({"a": 1}, JSONType), ([1], JSONType)],
)
def test_type_is_inferred_from_default(default, kind):
    assert Parameter("p", default=default).type is kind


@pytest.mark.parametrize(
    "kind, raw, value",
    [
        (int, "42", 42),
        (float, "0.5", 0.5),
        (str, "hi", "hi"),
        (bool, "true", True),
        (bool, "No", False),
        (bool, "1", True),
        (JSONType, '{"a": [1, 2]}', {"a": [1, 2]}),
    ],
)
def test_convert(kind, raw, value):
    assert Parameter("p", type=kind).convert(raw) == value


@pytest.mark.parametrize(
    "kind, raw, message",
    [
        (int, "4.5", "--p: '4.5' is not a valid int. Give e.g. --p 42."),
        (float, "abc", "--p: 'abc' is not a valid float. Give e.g. --p 0.5."),
        (bool, "maybe", "--p: 'maybe' is not a valid bool. Give e.g. --p true."),
        (JSONType, "{nope", "--p: '{nope' is not a valid JSON."),
    ],
)
def test_bad_values_say_which_option(kind, raw, message):
    with pytest.raises(ParameterError) as info:
        Parameter("p", type=kind).convert(raw)
    assert info.value.format().startswith(message)


def test_separator_splits_into_typed_list():
    assert Parameter("ids", type=int, separator=",").convert("1,2,3") == [1, 2, 3]


def test_default_is_converted_and_checked():
    assert Parameter("n", type=int, default="7").default == 7
    with pytest.raises(FlowDefinitionError, match="default that does not fit its type"):
        Parameter("n", type=int, default="seven")


def test_unsupported_type_and_bad_name():
    with pytest.raises(FlowDefinitionError, match="unsupported type"):
        Parameter("p", type=list)
    with pytest.raises(FlowDefinitionError, match="Parameter name 'a b' is invalid"):
        Parameter("a b")


def test_callable_default_is_resolved_at_run_start():
    param = Parameter("user", default=lambda ctx: ctx.flow_name + "-x")
    assert param.type is str
    assert param.resolve_default(flow_name="F") == "F-x"


def test_parameter_learns_its_attribute_name():
    class Holder:
        learning_rate = Parameter("learning-rate", default=0.1)

    assert Holder.learning_rate.attr == "learning_rate"
    assert Holder.learning_rate.option == "--learning-rate"


def test_include_file_text_and_binary(tmp_path):
    path = tmp_path / "data.txt"
    path.write_bytes("héllo".encode())
    assert IncludeFile("d").read(str(path)) == "héllo"
    assert IncludeFile("d", is_text=False).read(str(path)) == "héllo".encode()
    assert IncludeFile("d", encoding="latin-1").read(str(path)) == "héllo".encode().decode("latin-1")


def test_include_file_errors(tmp_path):
    with pytest.raises(ParameterError, match="--d: file 'missing.csv' does not exist."):
        IncludeFile("d").read("missing.csv", base_dir=str(tmp_path))
    (tmp_path / "bin").write_bytes(b"\xff\xfe")
    with pytest.raises(ParameterError, match="is not valid utf-8 text"):
        IncludeFile("d").read(str(tmp_path / "bin"))
    with pytest.raises(FlowDefinitionError, match="unknown encoding"):
        IncludeFile("d", encoding="nope")
