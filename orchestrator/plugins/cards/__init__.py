"""``metaflow.plugins.cards``: see ``orchestrator.cards``."""
