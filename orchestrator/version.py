"""orch's version: its own module, so the CLI and image labels can read it without importing the package."""

__version__ = "0.1.0"  # the one place: pyproject.toml reads it, so do the CLI and image labels
DISTRIBUTION = "orch-workflows"  # the name on PyPI (pip install orch-workflows); the import package is orchestrator
