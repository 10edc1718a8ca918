"""``orchestrator.exception`` and ``orchestrator.util`` behave as Metaflow's modules of the same names,
and the errors orch raises can be caught under Metaflow's class names."""

from __future__ import annotations

import pickle
import shutil

import pytest

from orchestrator import client
from orchestrator.exception import (
    CaughtException,
    ExternalCommandFailed,
    MetaflowException,
    MetaflowExceptionWrapper,
    MetaflowNamespaceMismatch,
    MetaflowNotFound,
    MissingInMergeArtifactsException,
    UnhandledInMergeArtifactsException,
)
from orchestrator.util import is_stringish
from tests.conftest import ROOT
from tests.unit.test_flowspec import Branch, make

V1_STORE = ROOT / "tests" / "data" / "stores" / "v1" / "store"


class Retryable(MetaflowException):
    headline = "Retry me"

    def __init__(self):
        super().__init__("this is not an error")


def test_metaflow_exception_messages_and_subclasses():
    assert str(MetaflowException("boom")) == "boom"
    assert str(MetaflowException("boom", lineno=3)) == "line 3: boom"
    assert str(MetaflowException("boom", source_file="flow.py")) == "flow.py: boom"
    error = Retryable()
    assert (error.headline, error.message) == ("Retry me", "this is not an error")
    with pytest.raises(MetaflowException):
        raise ExternalCommandFailed("catch me!")


def test_the_catch_wrapper_is_metaflows_and_pickles():
    assert MetaflowExceptionWrapper is CaughtException
    try:
        raise ExternalCommandFailed("catch me!")
    except ExternalCommandFailed as exc:
        import traceback

        caught = CaughtException.of(exc, traceback.format_exc())
    again = pickle.loads(pickle.dumps(caught))
    # Metaflow's own classes report Metaflow's path (checks written for Metaflow hold); a subclass its own
    assert again.type == "metaflow.exception.ExternalCommandFailed" and again.exception == "catch me!"

    class MyFailure(ExternalCommandFailed):
        pass

    assert CaughtException.of(MyFailure("x"), None).type == "%s.MyFailure" % __name__
    assert "Traceback" in str(again) and isinstance(again, Exception)
    assert str(CaughtException.from_parts("builtins.ValueError", "x")) == "[no stacktrace]\nbuiltins.ValueError: x"
    assert type(again).__name__ == "MetaflowExceptionWrapper"


def test_the_wrapper_is_built_as_metaflows_is():
    """MetaflowExceptionWrapper(exc) as flows build it: inside an except block it keeps the stacktrace."""
    try:
        raise ValueError("bad value")
    except ValueError as exc:
        inside = MetaflowExceptionWrapper(exc)
    outside = MetaflowExceptionWrapper(KeyError("k"))
    assert (inside.type, inside.exception) == ("builtins.ValueError", "bad value")
    assert "Traceback" in inside.stacktrace and str(inside) == inside.stacktrace
    assert (outside.type, outside.exception, outside.stacktrace) == ("builtins.KeyError", "'k'", None)
    assert str(outside) == "[no stacktrace]\nbuiltins.KeyError: 'k'"
    assert pickle.loads(pickle.dumps(inside)).__dict__ == inside.__dict__


def test_merge_errors_are_metaflows():
    with pytest.raises(UnhandledInMergeArtifactsException):
        make().merge_artifacts([Branch(x=1), Branch(x=2)])
    with pytest.raises(MissingInMergeArtifactsException):
        make().merge_artifacts([Branch(x=1)], include=["nope"])


def test_client_errors_are_metaflows(tmp_path):
    store = tmp_path / "store"
    shutil.copytree(V1_STORE, store)
    client.metadata(str(store))
    try:
        client.namespace("user:nobody")
        with pytest.raises(MetaflowNamespaceMismatch):
            client.Run("CompatFlow/1796155597983610")
        client.namespace(None)
        with pytest.raises(MetaflowNotFound):
            client.Run("CompatFlow/1")
    finally:
        client.reset()


def test_is_stringish():
    assert is_stringish("a") and is_stringish(b"a") and is_stringish(bytearray(b"a"))
    assert not is_stringish(1) and not is_stringish(["a"])
