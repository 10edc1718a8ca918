"""Env specs: merging flow and step decorators, normalisation, hash stability."""

from __future__ import annotations

from orchestrator.decorators import Conda, CondaBase, Pypi, PypiBase
from orchestrator.envs.spec import EnvSpec, step_env


def test_step_conda_merges_over_base():
    base = CondaBase(packages=(("numpy", "1.26.4"), ("pandas", "1.5.3")), python="3.11")
    own = Conda(packages=(("pandas", "2.2.3"),), channels=("file:///chan",))
    env = step_env([base], [own])
    assert env == EnvSpec("conda", "3.11", (("numpy", "1.26.4"), ("pandas", "2.2.3")), ("file:///chan",))


def test_libraries_alias_and_disabled():
    assert step_env([], [Conda(libraries=(("x", "1"),))]).packages == (("x", "1"),)
    assert step_env([CondaBase(python="3.11")], [Conda(disabled=True)]) is None
    assert step_env([CondaBase(disabled=True)], []) is None
    assert step_env([], []) is None


def test_pypi_step_over_conda_base_keeps_python():
    env = step_env([CondaBase(python="3.10", packages=(("numpy", "1"),))], [Pypi(packages=(("six", "1.16.0"),))])
    assert env == EnvSpec("pypi", "3.10", (("six", "1.16.0"),))
    assert step_env([PypiBase(python="3.11")], []).kind == "pypi"


def test_hash_is_stable_and_sensitive():
    a = EnvSpec("pypi", "3.11", (("pandas", "1.5.3"),))
    same = EnvSpec("pypi", "3.11", (("pandas", "1.5.3"),))
    assert a.spec_hash == same.spec_hash and hash(a) == hash(same)
    assert a.spec_hash != a.with_python("3.10").spec_hash
    assert a.spec_hash != EnvSpec("pypi", "3.11", (("pandas", "2.2.3"),)).spec_hash
    # pinned: a change here silently orphans every committed lock file; bump SCHEMA instead
    assert a.spec_hash == "016c5b5f202bd1d1ee427801c45c1906d09be07571b68c186831b1b393874fee"
    assert EnvSpec.from_canonical(a.canonical()) == a


def test_requirements_rendering():
    spec = EnvSpec("pypi", None, (("a", ""), ("b", "1.0"), ("c", ">=2"), ("d", "~=3.1")))
    assert spec.requirements() == ["a", "b==1.0", "c>=2", "d~=3.1"]
