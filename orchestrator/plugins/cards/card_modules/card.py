"""``metaflow.plugins.cards.card_modules.card``: the card base classes, by Metaflow's path."""

from ....cards.base import MetaflowCard, MetaflowCardComponent, create_component_id  # noqa: F401
