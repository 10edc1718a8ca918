"""Card types and components that exercise the card machinery, under the names Metaflow's conformance
suite (``test/core``) uses: a ported test imports them from ``...card_modules.test_cards``.

orch's own versions, written to the behaviour each name stands for: cards
that print the task's pathspec, join their components, raise, hang, or take
live data updates.
"""

from __future__ import annotations

import hashlib
import json
import random
import string
import time
from typing import Any, Dict, List, Optional

from ....cards.base import MetaflowCard, MetaflowCardComponent, render_safely


class TestStringComponent(MetaflowCardComponent):
    """Text that renders as itself."""

    REALTIME_UPDATABLE = True

    def __init__(self, text: Any) -> None:
        self._text = text

    def render(self) -> str:
        return str(self._text)

    def update(self, text: Any) -> None:
        self._text = text


class TestJSONComponent(MetaflowCardComponent):
    """A JSON-able value that renders as itself (a dict, so a card sees data, not HTML)."""

    REALTIME_UPDATABLE = True

    def __init__(self, data: Any) -> None:
        self._data = data

    @render_safely
    def render(self) -> Any:
        return self._data

    def update(self, data: Any) -> None:
        self._data = data


class _Joined(MetaflowCard):
    """Renders its components' renders, joined by a separator no component will contain."""

    separator = "$&#!!@*"

    def __init__(
        self, options: Optional[Dict[str, Any]] = None, components: Optional[List[Any]] = None, **kwargs: Any
    ) -> None:
        self._components = list(components or [])

    def render(self, task: Any) -> str:
        return self.separator.join(str(c) for c in self._components)


class TaskSpecCard(MetaflowCard):
    type = "taskspec_card"

    def render(self, task: Any) -> str:
        return "%s" % task.pathspec


class TestPathSpecCard(MetaflowCard):
    """The pathspec and a random suffix: two of them on one task differ (and so do their hashes)."""

    type = "test_pathspec_card"

    def render(self, task: Any) -> str:
        suffix = "".join(random.choice(string.ascii_uppercase + string.digits) for _ in range(6))
        return "%s %s" % (task.pathspec, suffix)


class TestEditableCard(_Joined):
    type = "test_editable_card"
    ALLOW_USER_COMPONENTS = True


class TestEditableCard2(_Joined):
    type = "test_editable_card_2"
    ALLOW_USER_COMPONENTS = True


class TestNonEditableCard(_Joined):
    type = "test_non_editable_card"


class TestMockCard(MetaflowCard):
    """The value of one artifact, named by ``options={"key": name}``."""

    type = "test_mock_card"

    def __init__(self, options: Optional[Dict[str, Any]] = None, **kwargs: Any) -> None:
        self._key = (options or {}).get("key", "dummy_key")

    def render(self, task: Any) -> str:
        return "%s" % task[self._key].data


class TestErrorCard(MetaflowCard):
    type = "test_error_card"

    def render(self, task: Any) -> str:
        raise Exception("Unknown Things Happened")


class TestTimeoutCard(MetaflowCard):
    """Sleeps ``options["timeout"]`` seconds (10 by default) before rendering."""

    type = "test_timeout_card"

    def __init__(self, options: Optional[Dict[str, Any]] = None, **kwargs: Any) -> None:
        self._timeout = (options or {}).get("timeout", 10)

    def render(self, task: Any) -> str:
        time.sleep(self._timeout)
        return "%s" % task.pathspec


REFRESHABLE_HTML_TEMPLATE = """<html>
<script>var METAFLOW_RELOAD_TOKEN = "[METAFLOW_RELOAD_TOKEN]"</script>
<h1>[PATHSPEC]</h1>
<h1>[REPLACE_CONTENT_HERE]</h1>
</html>
"""


class TestRefreshCard(MetaflowCard):
    """Shows the user data of ``current.card.refresh(data)``; its data update is that data, as given."""

    type = "test_refresh_card"
    HTML_TEMPLATE = REFRESHABLE_HTML_TEMPLATE
    RUNTIME_UPDATABLE = True
    ALLOW_USER_COMPONENTS = True
    RELOAD_POLICY = MetaflowCard.RELOAD_POLICY_ALWAYS

    def __init__(
        self, options: Optional[Dict[str, Any]] = None, components: Optional[List[Any]] = None, **kwargs: Any
    ) -> None:
        pass

    def _page(self, task: Any, data: Optional[Dict[str, Any]]) -> str:
        user = (data or {}).get("user", {})
        return self.HTML_TEMPLATE.replace("[REPLACE_CONTENT_HERE]", json.dumps(user)).replace(
            "[PATHSPEC]", task.pathspec
        )

    def render(self, task: Any) -> str:
        return self._page(task, self.runtime_data)

    def render_runtime(self, task: Any, data: Dict[str, Any]) -> str:
        return self._page(task, data)

    def refresh(self, task: Any, data: Dict[str, Any]) -> Any:
        return data


def _component_values_to_hash(components: Dict[str, Any]) -> str:
    """A digest of component values: each value iterated (a dict gives its keys), joined."""
    joined = ",".join("".join(item) for value in components.values() for item in value)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


class TestRefreshComponentCard(MetaflowCard):
    """Shows its components; its data update is the realtime components' renders, and its reload token
    changes with their values."""

    type = "test_component_refresh_card"
    HTML_TEMPLATE = REFRESHABLE_HTML_TEMPLATE
    RUNTIME_UPDATABLE = True
    ALLOW_USER_COMPONENTS = True
    RELOAD_POLICY = MetaflowCard.RELOAD_POLICY_ONCHANGE

    def __init__(
        self, options: Optional[Dict[str, Any]] = None, components: Optional[List[Any]] = None, **kwargs: Any
    ) -> None:
        self._components = list(components or [])

    def render(self, task: Any) -> str:
        return self.HTML_TEMPLATE.replace("[REPLACE_CONTENT_HERE]", json.dumps(self._components)).replace(
            "[PATHSPEC]", task.pathspec
        )

    def render_runtime(self, task: Any, data: Dict[str, Any]) -> str:
        return self.render(task)

    def refresh(self, task: Any, data: Dict[str, Any]) -> Any:
        return data["components"]

    def reload_content_token(self, task: Any, data: Dict[str, Any]) -> str:
        if task.finished:
            return "final"
        return "runtime-%s" % _component_values_to_hash(data["components"])


CARDS = [
    TaskSpecCard,
    TestPathSpecCard,
    TestEditableCard,
    TestEditableCard2,
    TestNonEditableCard,
    TestMockCard,
    TestErrorCard,
    TestTimeoutCard,
    TestRefreshCard,
    TestRefreshComponentCard,
]
