"""orch's version: its own module, so the CLI and image labels can read it without importing the package."""

__version__ = "0.1.0"
