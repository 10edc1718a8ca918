"""Cards in ``orch ui``: the task page shows each card in a sandboxed frame, live cards follow their
task, and the run page links every task that has cards.

A card's HTML is the step's own output, so it is served with a Content
Security Policy that forbids any network access (images must be data:
URIs, as orch's components make them) and shown in an ``<iframe sandbox>``
without same-origin rights: it cannot read the UI or the store. Frames size
themselves from the height the card posts (orch's cards do); others get a
fixed, resizable height.
"""

from __future__ import annotations

import html
from typing import Any, List, Optional, Tuple

from ..cards.live import attempt_cards
from ..store.records import AttemptEnd, CardRecord

CARD_CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "font-src data:; frame-ancestors 'self'"
)

CARDS_SCRIPT = """
window.addEventListener('message', function (event) {
  document.querySelectorAll('iframe.card').forEach(function (frame) {
    if (frame.contentWindow === event.source && event.data && event.data.orchCardHeight) {
      frame.style.height = Math.min(Math.max(event.data.orchCardHeight + 24, 120), 4000) + 'px';
    }
  });
});
async function followCards() {
  const box = document.getElementById('cards');
  if (!box || box.dataset.done === 'true') return;
  try {
    const response = await fetch(box.dataset.src);
    if (response.ok) {
      const text = await response.text();
      const holder = document.createElement('div');
      holder.innerHTML = text;
      const fresh = holder.firstElementChild;
      const frames = box.querySelectorAll('iframe.card'), now = fresh ? fresh.querySelectorAll('iframe.card') : [];
      if (fresh && fresh.dataset.sig !== box.dataset.sig) {
        if (frames.length && frames.length === now.length) {
          // the same cards, newer renders: reload each changed frame in place (it keeps its height)
          now.forEach(function (frame, i) {
            const src = frame.getAttribute('src');
            if (frames[i].getAttribute('src') !== src) frames[i].setAttribute('src', src);
          });
          const heads = box.querySelectorAll('h3'), freshHeads = fresh.querySelectorAll('h3');
          heads.forEach(function (head, i) { if (freshHeads[i]) head.innerHTML = freshHeads[i].innerHTML; });
          box.dataset.sig = fresh.dataset.sig;
          box.dataset.done = fresh.dataset.done;
        } else {
          box.replaceWith(fresh);
        }
      } else if (fresh) { box.dataset.done = fresh.dataset.done; }
    }
  } finally {
    setTimeout(followCards, 2000);
  }
}
setTimeout(followCards, 2000);
"""


def task_cards(
    backend: Any, path: Tuple[str, str, str, str], attempt: int, done: Optional[AttemptEnd]
) -> List[Tuple[int, CardRecord]]:
    """The attempt's final cards once it ended, else its live ones. ``path``: (flow, run, step, task)."""
    return [(index, record) for index, record, _ in attempt_cards(backend, *path, attempt, done)]


def cards_fragment(path: str, attempt: int, cards: List[Tuple[int, CardRecord]], finished: bool) -> str:
    """The task page's cards: one frame each, with a link to open it alone. ``path``: flow/run/step/task."""
    sig = ",".join("%d:%s" % (i, c.html[:16]) for i, c in cards) + (":done" if finished else "")
    parts = []
    for index, record in cards:
        url = "/cards/%s/%d/%d?v=%s" % (path, attempt, index, record.html[:16])
        notes = "" if finished else ' <span class="badge running">live</span>'
        if record.error:
            notes += ' <span class="badge failed">render failed</span>'
        parts.append(
            '<h3>%s%s <a class="muted" href="%s" target="_blank">open</a></h3>'
            '<iframe class="card" title="card %s" sandbox="allow-scripts allow-popups" src="%s" '
            'style="width:100%%;height:600px;border:1px solid #d0d7de;border-radius:6px;resize:vertical"></iframe>'
            % (html.escape(record.label), notes, url, html.escape(record.label), url)
        )
    if not parts:
        parts.append('<p class="muted">%s</p>' % ("No cards." if finished else "No card yet; live cards appear here."))
    return (
        '<div id="cards" data-src="/runs/%s/cards?attempt=%d" data-sig="%s" data-done="%s"><h2>Cards</h2>%s</div>'
        % (path, attempt, html.escape(sig), str(finished).lower(), "".join(parts))
    )


def run_cards_links(view: Any) -> str:
    """The run page's list of tasks with cards (the first 100), each linking to its task page."""
    rows = []
    for step in view.steps:
        for task in step.tasks:
            if task.cards:
                rows.append(
                    '<li><a href="/runs/%s/%s/%s/%s#cards">%s</a>: %s</li>'
                    % (
                        view.flow,
                        view.run_id,
                        step.name,
                        task.task_id,
                        html.escape("%s/%s" % (step.name, task.label)),
                        html.escape(", ".join(c.label for c in task.cards)),
                    )
                )
    if not rows:
        return ""
    more = ' <span class="muted">and %d more</span>' % (len(rows) - 100) if len(rows) > 100 else ""
    return "<h2>Cards</h2><ul>%s</ul>%s" % ("".join(rows[:100]), more)
