"""The reliability suite reuses the integration suite's ``orch`` runner fixture."""

from tests.integration.conftest import orch  # noqa: F401
