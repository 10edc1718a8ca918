"""Build orch's sdist and wheel as users get them, check them, and install the wheel into a fresh venv.

``make dist`` (and so ``make test``) runs this. It fails when:
- the build prints any warning (setuptools deprecations, files it could not place...);
- ``twine check --strict`` finds a problem with either file;
- the wheel cannot be installed, not editable, into a fresh venv.

What is inside the wheel is checked by ``tests/package``, which also runs the
installed ``orch`` from a folder outside the checkout, with the venv this
leaves at ``OUT/venv``. Prints the wheel's size, a summary of its files and
the install's time.

Usage: python scripts/release.py [--out .release]
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(argv: list, **kwargs) -> str:
    """Run a command; on failure print its output and stop with its exit code."""
    done = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    if done.returncode:
        sys.stderr.write(done.stdout + done.stderr)
        sys.exit("release: %s failed (exit %d)" % (" ".join(map(str, argv)), done.returncode))
    return done.stdout + done.stderr


def build(dist: Path) -> tuple:
    """Build the sdist, then the wheel from it (as ``python -m build`` does); returns their paths."""
    shutil.rmtree(dist, ignore_errors=True)
    for stale in [ROOT / "build", *ROOT.glob("*.egg-info")]:  # setuptools' scratch and its old file list
        shutil.rmtree(stale, ignore_errors=True)  # would ship files the configuration no longer names
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # else setuptools warns that it cannot byte-compile
    output = run([sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)], env=env)
    warnings = [line for line in output.splitlines() if "warning" in line.lower()]
    if warnings:
        sys.stderr.write("\n".join(warnings) + "\n")
        sys.exit("release: the build printed %d warning(s); fix them (see above)." % len(warnings))
    (wheel,) = dist.glob("*.whl")
    (sdist,) = dist.glob("*.tar.gz")
    run([sys.executable, "-m", "twine", "check", "--strict", str(sdist), str(wheel)])
    return sdist, wheel


def install(wheel: Path, venv: Path) -> float:
    """A fresh venv with the wheel installed (not editable); returns the seconds pip took."""
    shutil.rmtree(venv, ignore_errors=True)
    run([sys.executable, "-m", "venv", str(venv)])
    started = time.monotonic()
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)])
    seconds = time.monotonic() - started
    version = run([str(venv / "bin" / "orch"), "--version"]).strip()
    print("installed %s into %s in %.1f s: %s" % (wheel.name, venv, seconds, version))
    return seconds


def summary(wheel: Path) -> str:
    """The wheel's size and how many files each of its folders holds."""
    with zipfile.ZipFile(wheel) as archive:
        names = [info.filename for info in archive.infolist() if not info.filename.endswith("/")]
    folders = collections.Counter(os.path.dirname(name) for name in names)
    lines = ["%s: %.0f KiB, %d files" % (wheel.name, wheel.stat().st_size / 1024, len(names))]
    lines += ["  %4d  %s" % (count, folder) for folder, count in sorted(folders.items())]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".release", help="folder for dist/ and venv/ (default .release)")
    args = parser.parse_args()
    out = Path(args.out).resolve()
    sdist, wheel = build(out / "dist")
    print("built %s and %s; twine check passed" % (sdist.name, wheel.name))
    print(summary(wheel))
    install(wheel, out / "venv")


if __name__ == "__main__":
    main()
