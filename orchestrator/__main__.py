"""``python -m orchestrator``: the same as the ``orch`` command (the Runner API starts runs this way)."""

from .cli.main import entry

if __name__ == "__main__":
    entry()
