"""``metaflow.plugins.cards.card_modules.components``: the components, by Metaflow's path."""

from ....cards.components import *  # noqa: F401,F403
