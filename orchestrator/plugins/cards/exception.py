"""The errors of cards, by Metaflow's path (``metaflow.plugins.cards.exception``)."""

from ...cards.errors import (  # noqa: F401
    CardClassFoundException,
    CardNotPresentException,
    IncorrectArgumentException,
    IncorrectPathspecException,
    TypeRequiredException,
)
