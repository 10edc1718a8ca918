"""The errors of cards, with Metaflow's names (a port's ``except CardNotPresentException`` works).

Each class keeps Metaflow's ``headline`` as a class attribute, and each
message starts with it, so tools that look for it on stderr find it."""

from __future__ import annotations

from typing import Any, Optional

from ..errors import OrchError


class CardNotPresentException(OrchError):
    headline = "Card not found in datastore"

    def __init__(
        self,
        pathspec: str,
        card_type: Optional[str] = None,
        card_hash: Optional[str] = None,
        card_id: Optional[str] = None,
    ) -> None:
        what = [("type", card_type), ("id", card_id), ("hash", card_hash)]
        named = ", ".join("%s %r" % (k, v) for k, v in what if v is not None)
        super().__init__(
            "%s: no card%s for %s." % (type(self).headline, " with " + named if named else "", pathspec),
            "`orch card list %s` shows the task's cards; a hash may be shortened to its first 5 characters." % pathspec,
        )


class CardClassFoundException(OrchError):
    headline = "MetaflowCard not found"


class TypeRequiredException(OrchError):
    headline = "Card type missing exception"


class IncorrectPathspecException(OrchError):
    headline = "Incorrect pathspec"

    def __init__(self, pathspec: Any) -> None:
        super().__init__(
            "%s: %r is not a task pathspec." % (type(self).headline, pathspec),
            "Give FLOW/RUN/STEP/TASK, e.g. get_cards('MyFlow/12/start/1').",
        )


class IncorrectArgumentException(OrchError):
    headline = "Incorrect argument"

    def __init__(self, given: Any) -> None:
        super().__init__(
            "%s: get_cards takes a Task or a pathspec string, not %s." % (type(self).headline, given),
        )
