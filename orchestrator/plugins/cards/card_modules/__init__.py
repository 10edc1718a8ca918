"""``metaflow.plugins.cards.card_modules``: the card base classes and components, by Metaflow's path."""

from ....cards.base import MetaflowCard, MetaflowCardComponent  # noqa: F401
