"""Cards: a visual report of each task, in `orch ui`, `orch report` and `orch card view`.

Only the import lines differ from the Metaflow version. The `start` step
gets the default card (parameters, artifacts, the flow) with a summary and
a table of the data on top; `report` builds a card of its own, a chart per
question, and a progress bar that moves while it runs (a live card).

It needs pandas, matplotlib and vl-convert-python where its steps run:

    pip install pandas matplotlib vl-convert-python
    orch run examples/movie_cards_flow.py --executor local
    orch ui                         # the task pages show the cards
    orch card view MovieCardsFlow/<run>/report/<task>

or, in containers, `--with pypi:packages={'pandas':'2.2.3','matplotlib':'3.9.2','vl-convert-python':'1.7.0'}`.
"""

import os
import time

from orchestrator import FlowSpec, IncludeFile, Parameter, card, current, step
from orchestrator.cards import Image, Markdown, ProgressBar, Table, VegaChart


def script_path(filename):
    return os.path.join(os.path.dirname(os.path.realpath(__file__)), filename)


class MovieCardsFlow(FlowSpec):
    """Which genres make the money: a report on a small movie table."""

    movie_data = IncludeFile("movie_data", help="A CSV of movies.", default=script_path("movies.csv"))
    top = Parameter("top", help="How many genres to chart.", default=8)
    pause = Parameter("pause", help="Seconds per genre in the report step (to watch the live card).", default=0.0)

    @card
    @step
    def start(self):
        """Read the table; put a summary and its first rows on the default card."""
        import io

        import pandas as pd

        frame = pd.read_csv(io.StringIO(self.movie_data))
        frame["gross_musd"] = (frame["gross"] / 1e6).round(1)
        self.movies = frame[["movie_title", "title_year", "genres", "gross_musd"]]
        current.card.append(
            Markdown(
                "# Movies at a glance\n"
                "**%d** movies from %d to %d, grossing **$%.1f bn** in all."
                % (len(frame), frame.title_year.min(), frame.title_year.max(), frame.gross.sum() / 1e9)
            )
        )
        current.card.append(Table.from_dataframe(self.movies.sort_values("gross_musd", ascending=False).head(10)))
        self.next(self.report)

    @card(type="blank", id="report", refresh_interval=1)
    @step
    def report(self):
        """Gross by genre: a progress bar while it counts, then a Vega-Lite chart and a matplotlib plot."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        report = current.card["report"]
        report.append(Markdown("# Gross by genre\nCounting every genre a movie is listed under."))
        exploded = self.movies.assign(genre=self.movies.genres.str.split("|")).explode("genre")
        genres = sorted(exploded.genre.unique())
        progress = ProgressBar(max=len(genres), label="Genres counted", value=0)
        report.append(progress)
        totals = {}
        for done, genre in enumerate(genres, 1):
            totals[genre] = float(exploded[exploded.genre == genre].gross_musd.sum())
            progress.update(done)
            current.card.refresh()
            time.sleep(self.pause)
        self.totals = dict(sorted(totals.items(), key=lambda kv: -kv[1])[: self.top])
        report.append(
            VegaChart(
                {
                    "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
                    "title": "Gross by genre (million USD)",
                    "width": 480,
                    "data": {"values": [{"genre": g, "gross": v} for g, v in self.totals.items()]},
                    "mark": {"type": "bar", "color": "#0969da"},
                    "encoding": {
                        "y": {"field": "genre", "type": "nominal", "sort": "-x", "title": None},
                        "x": {"field": "gross", "type": "quantitative", "title": "million USD"},
                    },
                }
            )
        )
        figure, axes = plt.subplots(figsize=(6, 3))
        axes.scatter(self.movies.title_year, self.movies.gross_musd, color="#1f883d")
        axes.set_xlabel("year")
        axes.set_ylabel("gross (million USD)")
        axes.set_title("Every movie, by year")
        report.append(Image.from_matplotlib(figure, label="Gross against release year"))
        table = exploded.groupby("genre", as_index=False).gross_musd.sum().nlargest(self.top, "gross_musd")
        report.append(Table.from_dataframe(table.rename(columns={"gross_musd": "million USD"})))
        self.next(self.end)

    @step
    def end(self):
        print("Top genre: %s" % next(iter(self.totals)))


if __name__ == "__main__":
    MovieCardsFlow()
