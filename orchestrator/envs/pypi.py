"""PyPI environments: solve with uv into a hashed lock; fetch a verified wheelhouse; build cached venvs.

The lock is a requirements file with ``--hash`` pins, for one Python
version and platform. Every download is checked against those hashes (pip
and uv refuse a mismatch), so an image build or a local venv installs
exactly the lock, from a local wheelhouse, with no network.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
from typing import Optional, Sequence

from ..config import NO_SOURCES, PackageSources
from ..errors import OrchError
from .lock import LockRef, file_digest, header_line, write_atomic
from .spec import EnvSpec

DEFAULT_PYTHON = "3.11"


class ResolutionError(OrchError):
    """A spec cannot be solved: unknown package, conflicting pins, no build for the platform."""


def uv_binary() -> str:
    found = shutil.which("uv") or os.path.join(os.path.dirname(sys.executable), "uv")
    if not os.path.exists(found):
        raise OrchError("PyPI environments need uv.", "Install it: pip install uv (make install does).")
    return found


def manylinux_platform() -> str:
    machine = platform.machine()
    return "%s-manylinux_2_28" % ("aarch64" if machine in ("aarch64", "arm64") else "x86_64")


def python_version(spec: EnvSpec) -> str:
    """The X.Y the env runs; a range such as '>=3.10' resolves for the default."""
    if spec.python and re.match(r"^\d+\.\d+(\.\d+)?$", spec.python):
        return ".".join(spec.python.split(".")[:2])
    return DEFAULT_PYTHON


def _explain(steps: Sequence[str], output: str) -> ResolutionError:
    who = "step%s %s" % ("s" if len(steps) > 1 else "", ", ".join("'%s'" % s for s in steps))
    output = re.sub(r"\n\s{4,}", " ", output)  # uv wraps long lines to the terminal's width
    missing = re.search(
        r"(?:because )?(\S+) was not found in the (?:package registry|provided package locations)",
        output,
        re.IGNORECASE,
    )
    if missing:
        return ResolutionError(
            "The PyPI environment of %s asks for '%s', which PyPI does not have." % (who, missing.group(1)),
            "Check the package name in @pypi(packages=...).",
        )
    version = re.search(r"there is no version of (\S+?)(==\S+)?\s", output)
    if version:
        return ResolutionError(
            "The PyPI environment of %s asks for a version of '%s' that does not exist." % (who, version.group(1)),
            "Check the version in @pypi(packages=...).",
        )
    reason = " ".join(line.strip() for line in output.splitlines() if line.strip() and "hint" not in line)
    for noise in (
        "error: No solution found when resolving dependencies:",
        "error: No solution found when resolving dependencies",
    ):
        reason = reason.replace(noise, "")
    reason = reason.replace("╰─▶", "").strip(" :")
    for lead in ("cause:", "Because"):
        reason = reason[len(lead) :].strip() if reason.startswith(lead) else reason
    reason = reason[:600].rstrip(".") + "."
    return ResolutionError(
        "The PyPI environment of %s cannot be solved: %s" % (who, reason),
        "Loosen or change conflicting pins in @pypi(packages=...).",
    )


def solve(spec: EnvSpec, path: str, steps: Sequence[str], sources: PackageSources = NO_SOURCES) -> LockRef:
    """Resolve ``spec`` with uv for its Python and this platform; write the hashed lock to ``path``."""
    requirements = "\n".join(spec.requirements()) + "\n"
    argv = [uv_binary(), "pip", "compile", "-", "--python-version", python_version(spec)]
    argv += ["--python-platform", manylinux_platform(), "--generate-hashes", "--no-header", "--quiet"]
    argv += ["--no-annotate", *sources.uv_args()]
    result = subprocess.run(argv, input=requirements, capture_output=True, text=True)
    if result.returncode != 0:
        raise _explain(steps, result.stderr)
    origin = "# python %s, %s; solved by uv\n" % (python_version(spec), manylinux_platform())
    write_atomic(path, header_line(spec) + origin + result.stdout)
    return LockRef(spec, path, file_digest(path))


def _platform_tags() -> list:
    """pip matches --platform literally: every manylinux tag a glibc 2.28 system accepts."""
    machine = manylinux_platform().split("-")[0]
    tags = ["manylinux_2_%d_%s" % (minor, machine) for minor in range(28, 4, -1)]
    return tags + ["manylinux%s_%s" % (legacy, machine) for legacy in ("2014", "2010", "1")]


def fetch_wheelhouse(lock: LockRef, target: str, sources: PackageSources = NO_SOURCES) -> str:
    """Download every wheel of the lock into ``target``, verified against the lock's sha256 pins.

    pip runs ``--isolated`` so no pip.conf or PIP_* variable can add another
    package source behind the lock's back.
    """
    marker = os.path.join(target, ".complete")
    if os.path.exists(marker):
        return target
    os.makedirs(target, exist_ok=True)
    version = python_version(lock.spec)
    argv = [sys.executable, "-m", "pip", "--isolated", "download", "--quiet", "--no-deps", "--require-hashes"]
    argv += ["--only-binary", ":all:", "--python-version", version, "--implementation", "cp", "-d", target]
    argv += ["-r", lock.path, *sources.pip_args()]
    for tag in _platform_tags():
        argv += ["--platform", tag]
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        raise _download_error(lock, result.stderr, version)
    open(marker, "w").close()
    return target


def _download_error(lock: LockRef, output: str, version: str) -> ResolutionError:
    name = os.path.basename(lock.path)
    mismatch = re.search(r"^\s*(\S+) from (\S+).*\n\s*Expected sha256 (\w+)\n\s*Got\s+(\w+)", output, re.M)
    if "DO NOT MATCH THE HASHES" in output:
        detail = (
            ": %s is %s, the lock pins %s" % (mismatch.group(1), mismatch.group(4)[:16], mismatch.group(3)[:16])
            if mismatch
            else ""
        )
        return ResolutionError(
            "A package of %s did not match its sha256 in the lock%s." % (name, detail),
            "The package source serves a different file than the one locked; check the mirror, "
            "or re-lock with orch build-envs --upgrade if the change is expected.",
        )
    detail = " ".join(output.strip().splitlines()[-3:])
    return ResolutionError(
        "Downloading the wheels of %s failed: %s" % (name, detail),
        "A package may have no wheel for Python %s on %s." % (version, _platform_tags()[0]),
    )


def find_interpreter(version: str) -> Optional[str]:
    """A python<version> on this host: on PATH, or under pyenv."""
    import glob

    candidates = [shutil.which("python" + version)]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/%s*/bin/python%s" % (version, version))))
    if "%d.%d" % sys.version_info[:2] == version:
        candidates.insert(0, sys.executable)
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "-c", "pass"], capture_output=True).returncode == 0:
            return candidate
    return None


def build_venv(lock: LockRef, wheelhouse: str, prefix: str) -> str:
    """Create a venv at ``prefix`` holding exactly the lock, from the wheelhouse only. Returns its python."""
    version = python_version(lock.spec)
    interpreter = find_interpreter(version)
    if interpreter is None:
        raise ResolutionError(
            "The PyPI environment %s needs Python %s, which this host does not have."
            % (os.path.basename(lock.path), version),
            "Install python%s, or run with --executor docker." % version,
        )
    uv = uv_binary()
    subprocess.run([uv, "venv", "--quiet", "--python", interpreter, prefix], check=True, capture_output=True)
    python = os.path.join(prefix, "bin", "python")
    result = subprocess.run(
        [
            uv,
            "pip",
            "sync",
            "--quiet",
            "--python",
            python,
            "--offline",
            "--no-index",
            "--find-links",
            wheelhouse,
            "--require-hashes",
            "--compile-bytecode",
            lock.path,
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise ResolutionError(
            "Installing %s into a venv failed: %s" % (os.path.basename(lock.path), result.stderr.strip()[-600:])
        )
    return python
