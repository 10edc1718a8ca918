"""Metaflow's plugin module paths that flows and tools import (``metaflow.plugins.cards...``), so that
code using them ports by its import line. The implementations live in ``orchestrator.cards``."""
