"""Changing a run's user tags, under Metaflow's rules.

A tag is a non-empty string of at most 500 characters that encodes as UTF-8;
a run has at most 50 user tags (a change may shrink a larger set); system
tags (``user:``, ``project:``...) cannot be removed, and adding one as a
user tag does nothing. Removals apply before additions. The change is
stored as one write-once event (``MetadataStore.add_tag_event``), so two
processes changing tags at once never lose each other's change.
"""

from __future__ import annotations

import time
from typing import Any, Iterable, Optional, Tuple

from ..errors import OrchError
from ..exception import MetaflowTaggingError
from ..store.metadata import MetadataStore
from ..store.records import RunRecord, TagEvent

MAX_TAG_SIZE = 500
MAX_USER_TAGS = 50


class TaggingError(OrchError, MetaflowTaggingError):
    """A tag change breaks Metaflow's rules (also Metaflow's ``MetaflowTaggingError``)."""


def validate_tag(tag: Any) -> str:
    if isinstance(tag, bytes):
        try:
            tag = tag.decode("utf-8")
        except UnicodeError:
            raise TaggingError("Tags must be UTF-8 decodable.") from None
    if not isinstance(tag, str):
        raise TaggingError("Tags must be strings, got %s." % type(tag).__name__)
    try:
        tag.encode("utf-8")
    except UnicodeError:
        raise TaggingError("Tags must be UTF-8 encodable: %r." % tag) from None
    if not tag:
        raise TaggingError("Tags must not be empty strings.")
    if len(tag) > MAX_TAG_SIZE:
        raise TaggingError("Tag is too long: %d > %d characters." % (len(tag), MAX_TAG_SIZE))
    return tag


def _tags(value: Any, what: str) -> Tuple[str, ...]:
    if isinstance(value, (str, bytes)):
        raise TaggingError("%s may not be a string: give a list of tags." % what)
    try:
        items = list(value)
    except TypeError:
        raise TaggingError("%s must be an iterable of tags." % what) from None
    return tuple(dict.fromkeys(validate_tag(t) for t in items))


def mutate(
    meta: MetadataStore,
    flow: str,
    run: str,
    add: Iterable[Any] = (),
    remove: Iterable[Any] = (),
    user: str = "",
    record: Optional[RunRecord] = None,
) -> Tuple[str, ...]:
    """Remove then add user tags of a run; returns its user tags after the change. ``record``: the
    run's record, when the caller has already read it."""
    record = record or meta.run_record(flow, run)
    if record is None:
        raise TaggingError("Run %s/%s does not exist in this store." % (flow, run))
    to_add, to_remove = _tags(add, "tags_to_add"), _tags(remove, "tags_to_remove")
    if not to_add and not to_remove:
        raise TaggingError("Must add or remove at least one tag.")
    system = set(record.system_tags)
    touched = sorted(system & set(to_remove))
    if touched:
        raise TaggingError(
            "Cannot remove a tag that is an existing system tag (%s)." % ", ".join(touched),
            "System tags say who ran the run and where; only user tags change.",
        )
    to_add = tuple(t for t in to_add if t not in system)  # as Metaflow: a system tag is not also a user tag
    before = meta.user_tags(flow, run, record)
    event = TagEvent(to_add, to_remove, time.time(), user)
    after = event.apply(before)
    if after == before:
        return before
    if len(after) > MAX_USER_TAGS and len(after) > len(before):
        raise TaggingError("Cannot increase the size of the tag set beyond %d." % MAX_USER_TAGS)
    key = meta.add_tag_event(flow, run, event)
    # The tags as of this change: every earlier change and this one, so the caller sees its own change
    # even when another writer changes the tags right after (Metaflow re-applies until it does).
    return meta.user_tags(flow, run, record, upto=key)
