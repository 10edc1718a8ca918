"""``metaflow.plugins.cards.card_client``: ``Card``, ``CardContainer`` and ``get_cards``."""

from ...cards.client import Card, CardContainer, get_cards  # noqa: F401
