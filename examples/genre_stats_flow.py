"""Per-genre statistics over a movie table: the foreach example of the original Metaflow article.

Only the import line differs from the Metaflow version. The data arrives
as an IncludeFile (a CSV shipped next to this file), fans out one task per
genre, and the join collects the results.
"""

from orchestrator import FlowSpec, IncludeFile, catch, retry, step


def script_path(filename):
    import os

    return os.path.join(os.path.dirname(os.path.realpath(__file__)), filename)


class GenreStatsFlow(FlowSpec):
    """A flow to generate some statistics about the movie genres.

    The flow performs the following steps:
    1) Ingests a CSV into a table.
    2) Fans out over genre.
    3) Computes quartiles for each genre.
    4) Saves a dictionary of genre-specific statistics.
    """

    movie_data = IncludeFile(
        "movie_data",
        help="The path to a movie metadata file.",
        default=script_path("movies.csv"),
    )

    @step
    def start(self):
        """Parse the CSV and make one list of movies per genre."""
        import csv
        import io

        rows = list(csv.DictReader(io.StringIO(self.movie_data)))
        self.dataframe = {
            "movie_title": [r["movie_title"] for r in rows],
            "genres": [r["genres"] for r in rows],
            "gross": [int(r["gross"]) for r in rows],
        }
        self.genres = sorted({g for r in rows for g in r["genres"].split("|")})
        self.next(self.compute_statistics, foreach="genres")

    @catch(var="compute_failed")
    @retry(times=1)
    @step
    def compute_statistics(self):
        """Compute gross quartiles of one genre."""
        self.genre = self.input
        print("Computing statistics for %s" % self.genre)
        frame = self.dataframe
        gross = sorted(
            g for g, genres in zip(frame["gross"], frame["genres"]) if self.genre in genres.split("|")
        )
        n = len(gross)
        self.quartiles = [gross[min(n - 1, int(n * q))] for q in (0.25, 0.5, 0.75)]
        self.next(self.join)

    @step
    def join(self, inputs):
        """Join our parallel branches and merge results into a dictionary."""
        self.genre_stats = {inp.genre: inp.quartiles for inp in inputs}
        self.next(self.end)

    @step
    def end(self):
        """End the flow."""
        for genre, quartiles in sorted(self.genre_stats.items()):
            print("%-12s %s" % (genre, quartiles))


if __name__ == "__main__":
    GenreStatsFlow()
