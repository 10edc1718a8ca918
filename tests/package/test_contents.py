"""The wheel and sdist carry every file orch reads at run time, and nothing from outside the package."""

from __future__ import annotations

import subprocess
import tarfile
import zipfile
from pathlib import Path

from orchestrator.version import DISTRIBUTION, __version__
from tests.conftest import ROOT

TEMPLATES = "orchestrator/images/templates"


def package_files() -> set:
    """The tracked files under orchestrator/, with the templates link replaced by the files it ships."""
    listed = subprocess.run(
        ["git", "ls-files", "orchestrator", "images"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    files = {name for name in listed if name.startswith("orchestrator/") and name != TEMPLATES}
    files |= {"%s/%s" % (TEMPLATES, Path(name).name) for name in listed if Path(name).name.startswith("Dockerfile.")}
    return files


def test_the_wheel_holds_exactly_the_package(release):
    with zipfile.ZipFile(release.wheel) as archive:
        names = {name for name in archive.namelist() if not name.endswith("/")}
    shipped = {name for name in names if ".dist-info/" not in name}
    expected = package_files()
    assert expected - shipped == set(), "files missing from the wheel"
    assert shipped - expected == set(), "files in the wheel that are not orch's tracked package files"
    assert len([n for n in expected if n.startswith(TEMPLATES)]) == 3


def test_the_sdist_holds_the_package_and_builds_the_same_wheel(release):
    top = "%s-%s/" % (DISTRIBUTION.replace("-", "_"), __version__)
    with tarfile.open(release.sdist) as archive:
        members = {m.name[len(top) :]: m for m in archive.getmembers() if m.isfile() or m.issym()}
    assert package_files() <= set(members), "files missing from the sdist"
    assert all(members[name].isfile() for name in members if name.startswith(TEMPLATES)), "templates must be files"
    assert {"LICENSE", "README.md", "pyproject.toml", "PKG-INFO"} <= set(members)


def test_the_metadata_names_the_distribution_license_and_python(release):
    with zipfile.ZipFile(release.wheel) as archive:
        (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        text = archive.read(metadata).decode()
        entry_points = archive.read(metadata.replace("METADATA", "entry_points.txt")).decode()
    assert "Name: %s\n" % DISTRIBUTION in text and "Version: %s\n" % __version__ in text
    assert "License-Expression: Apache-2.0\n" in text and "License-File: LICENSE\n" in text
    assert "Requires-Python: >=3.10\n" in text
    assert "Provides-Extra: cards\n" in text and "Project-URL: Documentation" in text
    assert "orch = orchestrator.cli.main:entry" in entry_points
    assert "[orch.backends]\nslurm = orchestrator.backends.slurm.descriptor:BACKEND" in entry_points
