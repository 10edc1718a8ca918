"""Image specs and build contexts, without Docker: tags are stable, sensitive, and the context is complete."""

from __future__ import annotations

import os

from orchestrator.envs.lock import LockRef
from orchestrator.envs.spec import EnvSpec
from orchestrator.images.ensure import plan_images
from orchestrator.images.render import render_context
from orchestrator.images.spec import ImageSpec, template_digest


def _spec(**changes) -> ImageSpec:
    base = dict(
        kind="pypi",
        base_image="orch-base:bookworm",
        base_image_id="sha256:" + "a" * 64,
        platform="linux/amd64",
        template_digest=template_digest("pypi"),
        runtime_digest="r" * 64,
        lock_digest="l" * 64,
        lock_name="pypi-x.pypi.lock",
    )
    base.update(changes)
    return ImageSpec(**base)


def test_same_inputs_same_tag():
    assert _spec().tag == _spec().tag
    assert _spec().tag.startswith("orch-env:") and len(_spec().tag) == len("orch-env:") + 32
    assert _spec(lock_name="renamed.lock").tag == _spec().tag  # the name is a label, not an input


def test_every_input_changes_the_tag():
    tags = {
        _spec().tag,
        _spec(lock_digest="m" * 64).tag,
        _spec(base_image_id="sha256:" + "b" * 64).tag,
        _spec(platform="linux/arm64").tag,
        _spec(template_digest="t" * 64).tag,
        _spec(runtime_digest="s" * 64).tag,
        _spec(kind="conda").tag,
    }
    assert len(tags) == 7


def test_with_base_returns_a_copy():
    spec = _spec()
    other = spec.with_base("python:3.11-slim", "sha256:" + "c" * 64)
    assert other.tag != spec.tag and spec.base_image == "orch-base:bookworm"


def test_plan_shares_images_between_steps_with_one_lock(tmp_path):
    lock_file = tmp_path / "a.lock"
    lock_file.write_text("x")
    lock = LockRef(EnvSpec("pypi", "3.11", (("six", "1.16.0"),)), str(lock_file), "d" * 64)
    plans = plan_images(
        {"start": lock, "end": lock, "other": None}, "base", "sha256:" + "e" * 64, "linux/amd64", "r" * 64
    )
    assert plans["start"].tag == plans["end"].tag != plans["other"].tag
    assert plans["other"].kind == "default" and plans["other"].lock_digest is None


def test_render_pypi_context(tmp_path):
    runtime = tmp_path / "runtime"
    (runtime / "orchestrator").mkdir(parents=True)
    (runtime / "orchestrator" / "__init__.py").write_text("")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / "six-1.16.0-py2.py3-none-any.whl").write_bytes(b"wheel")
    (wheels / ".complete").write_text("")
    lock = tmp_path / "lock.txt"
    lock.write_text("six==1.16.0 --hash=sha256:abc\n")
    uv = tmp_path / "uv"
    uv.write_text("#!/bin/sh\n")
    context = tmp_path / "context"
    dockerfile = render_context(
        _spec(), str(context), str(runtime), lock_path=str(lock), wheelhouse=str(wheels), uv_binary=str(uv)
    )
    assert dockerfile.startswith("# orch: a PyPI environment")
    assert "FROM orch-base:bookworm AS build" in dockerfile and "--require-hashes" in dockerfile
    assert "USER 1000:1000" in dockerfile and "$$" not in dockerfile
    assert sorted(os.listdir(context)) == ["Dockerfile", "lock.txt", "runtime", "uv", "wheels"]
    assert os.listdir(context / "wheels") == ["six-1.16.0-py2.py3-none-any.whl"]
    assert (context / "runtime" / "orchestrator" / "__init__.py").exists()
