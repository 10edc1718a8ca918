"""Decorators record validated, frozen specs with Metaflow's defaults, and fail at import with located errors."""

from __future__ import annotations

import dataclasses

import pytest

from orchestrator import (
    FlowSpec,
    batch,
    catch,
    conda,
    conda_base,
    environment,
    pypi_base,
    resources,
    retry,
    step,
    timeout,
)
from orchestrator.decorators import Batch, Catch, Conda, Resources, Retry, Timeout, flow_decorators, step_decorators
from orchestrator.errors import FlowDefinitionError


def test_bare_and_called_forms_record_metaflow_defaults():
    @retry
    @catch
    @timeout(seconds=30)
    @resources
    @step
    def train(self):
        pass

    specs = step_decorators(train)
    assert [s.NAME for s in specs] == ["retry", "catch", "timeout", "resources"]
    assert specs[0] == Retry(times=3, minutes_between_retries=2)
    assert specs[1] == Catch(var=None, print_exception=True)
    assert specs[2].total_seconds == 30
    assert specs[3] == Resources(cpu=1, gpu=None, disk=None, memory=4096, shared_memory=None)


def test_specs_are_frozen():
    @retry(times=1)
    @step
    def a(self):
        pass

    with pytest.raises(dataclasses.FrozenInstanceError):
        step_decorators(a)[0].times = 5


def test_unknown_keyword_names_step_and_argument():
    with pytest.raises(FlowDefinitionError) as info:

        @retry(tiems=1)
        @step
        def train(self):
            pass

    message = info.value.format()
    assert "@retry on step 'train' got an unknown argument 'tiems'." in message
    assert "Valid arguments are: times, minutes_between_retries." in message
    assert info.value.file.endswith("test_decorators.py") and info.value.line > 0


@pytest.mark.parametrize(
    "make, text",
    [
        (lambda: retry(times=-1), "times=-1 is out of range"),
        (lambda: retry(times="x"), "times='x' is not a whole number."),
        (lambda: retry(times=1.5), "times=1.5 is not a whole number."),
        (lambda: resources(memory="lots"), "memory='lots' is not a size"),
        (lambda: resources(cpu=0), "cpu=0 must be > 0."),
        (lambda: resources(gpu=True), "gpu=True is not a whole number."),
        (lambda: timeout(), "a timeout of 0 seconds is not valid"),
        (lambda: catch(var="bad name"), "var='bad name' must be a valid artifact name"),
        (lambda: catch(print_exception="yes"), "print_exception='yes' must be True or False."),
        (lambda: conda(packages=["pandas"]), "packages must be a dict of package name to version"),
        (lambda: conda(packages={"pan das": "1"}), "packages has an invalid package name 'pan das'."),
        (lambda: conda(python="three"), "python='three' is not a Python version"),
        (lambda: conda(channels=[1]), "channels must be a list of channel names"),
        (lambda: environment(vars={"1X": "a"}), "invalid environment variable name '1X'"),
        (lambda: batch(memory="huge"), "memory='huge' is not a size"),
    ],
)
def test_bad_values_fail_with_the_argument_named(make, text):
    with pytest.raises(FlowDefinitionError) as info:
        make()(step(lambda self: None))
    assert text in info.value.format()
    assert "step '<lambda>'" in info.value.format()


def test_values_are_normalised():
    @resources(memory="4GB", cpu="2")
    @conda(libraries={"numpy": 1.26}, packages={"pandas": "2.2.2"}, python=3.11, channels="conda-forge")
    @step
    def a(self):
        pass

    res, env = step_decorators(a)
    assert res.memory == 4096 and res.cpu == 2
    assert env == Conda(
        packages=(("pandas", "2.2.2"),), libraries=(("numpy", "1.26"),), python="3.11", channels=("conda-forge",)
    )
    assert env.all_packages == (("numpy", "1.26"), ("pandas", "2.2.2"))


def test_batch_accepts_metaflow_arguments():
    @batch(cpu=2, memory=1024, image="python:3.11", queue="q", use_tmpfs=True, iam_role="r")
    @step
    def a(self):
        pass

    (spec,) = step_decorators(a)
    assert spec == Batch(
        cpu=2, gpu=None, memory=1024, image="python:3.11", queue="q", extra=(("iam_role", "r"), ("use_tmpfs", True))
    )


def test_duplicate_decorator_is_an_error():
    with pytest.raises(FlowDefinitionError, match="@retry is applied twice to step 'a'"):

        @retry
        @retry(times=1)
        @step
        def a(self):
            pass


def test_positional_arguments_are_refused():
    with pytest.raises(FlowDefinitionError, match="takes keyword arguments only"):
        retry(3)


def test_step_decorator_on_class_points_to_flow_decorator():
    with pytest.raises(FlowDefinitionError, match="Use @conda_base on the class."):

        @conda(python="3.11")
        class F(FlowSpec):
            pass


def test_flow_decorator_on_step_points_to_step_decorator():
    with pytest.raises(FlowDefinitionError, match="Use @pypi on a step."):

        @pypi_base(python="3.11")
        def a(self):
            pass


def test_flow_decorators_are_recorded_per_class():
    @conda_base(python="3.11")
    class Base(FlowSpec):
        pass

    @pypi_base(packages={"x": "1"})
    class Child(Base):
        pass

    assert set(flow_decorators(Base)) == {"conda_base"}
    assert set(flow_decorators(Child)) == {"conda_base", "pypi_base"}


def test_describe_shows_only_non_defaults():
    assert Retry(times=1).describe() == "@retry(times=1)"
    assert Retry().describe() == "@retry"
    assert Timeout(minutes=5).describe() == "@timeout(minutes=5)"
