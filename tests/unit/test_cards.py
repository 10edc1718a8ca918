"""Cards without a run: Markdown and components render safe, self-contained HTML; ``current.card`` picks
the card Metaflow's rules pick; ``@card`` checks its arguments; card records round-trip; custom card
types are found in extension packages."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest

from orchestrator import FlowSpec, card, step
from orchestrator.cards import (
    Artifact,
    Error,
    Image,
    Markdown,
    MetaflowCardComponent,
    ProgressBar,
    Table,
    VegaChart,
)
from orchestrator.cards.collector import CardCollector, CardSlot
from orchestrator.cards.components import fragment
from orchestrator.cards.markdown import to_html
from orchestrator.errors import FlowDefinitionError
from orchestrator.states import Status
from orchestrator.store.records import AttemptEnd, CardRecord

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")


def test_markdown_renders_the_common_subset():
    html = to_html("# Title\n\nSome **bold**, *it* and `co<de>`.\n\n- a\n- b\n\n1. x\n\n```\nx < 1\n```\n> quoted")
    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html and "<em>it</em>" in html and "<code>co&lt;de&gt;</code>" in html
    assert "<ul><li>a</li><li>b</li></ul>" in html and "<ol><li>x</li></ol>" in html
    assert "<pre><code>x &lt; 1</code></pre>" in html and "<blockquote><p>quoted</p></blockquote>" in html
    table = to_html("| a | b |\n|---|---|\n| 1 | **2** |")
    assert table == "<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td><strong>2</strong></td></tr></table>"


def test_markdown_never_injects_html_or_script_links():
    html = to_html("<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>")
    assert "<script" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html and 'href="#"' in html
    assert '<a href="https://example.com/a">site</a>' in to_html("[site](https://example.com/a)")


def test_components_render_html_fragments():
    table = fragment(Table([[1, Markdown("**b**")], [2.5, "x<y"]], headers=["n", "what"]))
    assert "<th>n</th>" in table and "<strong>b</strong>" in table and "x&lt;y" in table
    assert '<td class="num">1</td>' in table
    image = fragment(Image(PNG, label="dot"))
    assert 'src="data:image/png;base64,' in image and "<figcaption>dot</figcaption>" in image
    assert 'src="data:image/svg+xml;base64,' in fragment(Image(b"<svg xmlns='http://www.w3.org/2000/svg'/>"))
    bar = fragment(ProgressBar(max=4, label="steps", value=1, unit="files"))
    assert 'aria-valuenow="1"' in bar and "1 files / 4 files (25%)" in bar and "width:25.0%" in bar
    long = fragment(Artifact(list(range(1000)), name="numbers"))
    assert '<span class="name">numbers</span>' in long and "..." in long and len(long) < 600
    try:
        raise KeyError("missing")
    except KeyError as exc:
        error = fragment(Error(exc, title="It broke"))
    assert "<strong>It broke</strong>" in error and "Traceback" in error and "KeyError" in error


def test_a_component_that_fails_shows_an_error_in_its_place():
    class Broken(MetaflowCardComponent):
        from orchestrator.cards.base import render_safely

        @render_safely
        def render(self):
            raise RuntimeError("no data")

    assert "Broken could not render: RuntimeError: no data" in fragment(Broken())


def test_table_from_dataframe_and_image_from_matplotlib():
    pd = pytest.importorskip("pandas")
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frame = pd.DataFrame({"genre": ["Action", "Drama"] * 80, "gross": range(160)})
    html = fragment(Table.from_dataframe(frame))
    assert html.count("<tr>") == 101 and "first 100 of 160 rows" in html and "<th>genre</th>" in html
    named = fragment(Table.from_dataframe(frame.head(2).set_index("genre")))
    assert "<th>genre</th><th>gross</th>" in named and "<td>Action</td>" in named
    figure, axes = plt.subplots()
    axes.plot([1, 2, 3])
    assert 'src="data:image/png;base64,iVBOR' in fragment(Image.from_matplotlib(figure))
    assert 'src="data:image/png;base64,iVBOR' in fragment(Image(axes))  # axes: their figure


def test_vega_chart_draws_svg_offline_or_says_what_to_install(monkeypatch):
    spec = {"data": {"values": [{"a": "x", "b": 1}]}, "mark": "bar", "encoding": {"x": {"field": "a"}}}
    pytest.importorskip("vl_convert")
    assert "<svg" in fragment(VegaChart(spec))
    monkeypatch.setitem(sys.modules, "vl_convert", None)  # as in a step environment without it
    html = fragment(VegaChart(spec))
    assert "needs <code>vl-convert-python</code>" in html and "&quot;mark&quot;: &quot;bar&quot;" in html


def _collector(*cards):
    """cards: (editable, id, customize)."""
    slots = []
    for index, (editable, card_id, customize) in enumerate(cards):
        cls = SimpleNamespace(ALLOW_USER_COMPONENTS=editable, RUNTIME_UPDATABLE=False)
        slots.append(CardSlot(index, SimpleNamespace(id=card_id, customize=customize, type="t"), cls))
    return CardCollector(None, slots), slots


@pytest.mark.parametrize(
    "cards, target",
    [
        ([(True, None, False)], 0),  # the only editable card
        ([(True, "xyz", False)], 0),  # ... even with an id
        ([(False, None, False), (True, None, False)], 1),  # a card that takes no components does not count
        ([(True, "abc", False), (True, None, False)], 1),  # the only one without an id
        ([(True, "a", False), (True, "b", False)], None),  # ambiguous: append is dropped
        ([(True, None, True), (True, "abc", False), (True, None, False)], 0),  # customize=True wins
    ],
)
def test_current_card_appends_where_metaflow_does(cards, target, monkeypatch):
    monkeypatch.setenv("ORCH_CARD_NO_WARNING", "1")
    collector, slots = _collector(*cards)
    collector.append(Markdown("hi"))
    counts = [len(s.components) for s in slots]
    assert counts == [1 if i == target else 0 for i in range(len(slots))]


def test_current_card_by_id_and_refusals(capsys):
    collector, slots = _collector((True, "a", False), (False, "b", False), (True, "a2", False))
    collector["b"].append(Markdown("into the card that takes no default components"))
    collector["a2"].append(Markdown("x"), id="mine")
    collector["nope"].append(Markdown("dropped"))
    collector["a"] = [Markdown("1"), Markdown("2")]
    assert [len(s.components) for s in slots] == [2, 1, 1]
    assert collector["a2"].components["mine"] is slots[2].components[0]
    collector["a"].append("not a component")
    assert len(slots[0].components) == 2
    err = capsys.readouterr().err
    assert "no @card has id='nope'" in err and "not str: wrap text in Markdown" in err


def test_card_decorator_arguments_are_checked():
    class Flow(FlowSpec):
        @card(type="blank", id="a")
        @card(options={"only_repr": True})
        @step
        def start(self):
            pass

    from orchestrator.decorators import step_decorators

    specs = [d for d in step_decorators(Flow.start) if d.NAME == "card"]
    assert [(s.type, s.id) for s in specs] == [("blank", "a"), ("default", None)]  # source order
    assert specs[1].to_task()["options"] == {"only_repr": True} and specs[1].timeout == 45
    for bad, message in [
        (dict(id="no spaces"), "id='no spaces' must be letters, digits and _ only"),
        (dict(type="a/b"), "type='a/b' must be letters"),
        (dict(options=[1]), "options=[1] must be a dict"),
        (dict(timeout=-1), "timeout"),
    ]:
        with pytest.raises(FlowDefinitionError, match=message.replace("[", r"\[").replace("]", r"\]")):

            class Bad(FlowSpec):
                @card(**bad)
                @step
                def start(self):
                    pass


def test_with_card_parses():
    from orchestrator.graph.overlay import parse_with

    spec = parse_with("card:type=blank,timeout=5")
    assert (spec.type, spec.timeout) == ("blank", 5)


def test_card_records_round_trip_and_old_records_have_none():
    record = CardRecord("default", "x", "a" * 64, "b" * 64, error=False)
    end = AttemptEnd(0, Status.SUCCEEDED, 1.0, cards=(record, CardRecord("blank", None, "c" * 64)))
    again = AttemptEnd.from_json(end.to_json())
    assert again.cards == end.cards and again.cards[0].blob_keys() == ("a" * 64, "b" * 64)
    old = end.to_json()
    del old["cards"]
    assert AttemptEnd.from_json(old).cards == ()


def test_custom_card_types_come_from_extension_packages(tmp_path, monkeypatch):
    from orchestrator.cards import registry

    cards = tmp_path / "orch_extensions" / "acme" / "plugins" / "cards"  # namespace packages: no __init__.py
    (cards / "good").mkdir(parents=True)
    (cards / "good" / "__init__.py").write_text(
        "from orchestrator.cards import MetaflowCard\n"
        "class Hello(MetaflowCard):\n    type = 'acme_hello'\n    def render(self, task):\n        return 'hi'\n"
        "CARDS = [Hello, object]\n"
    )
    (cards / "broken").mkdir()
    (cards / "broken" / "__init__.py").write_text("raise ImportError('this package is broken')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_external", None)
    monkeypatch.setattr(registry, "skipped", [])
    for name in [m for m in sys.modules if m.startswith("orch_extensions")]:
        monkeypatch.delitem(sys.modules, name)
    assert registry.card_class("acme_hello").type == "acme_hello"
    assert registry.card_class("default").type == "default"
    assert registry.card_class("no_such_card") is None
    assert any("broken" in s and "this package is broken" in s for s in registry.skipped)
