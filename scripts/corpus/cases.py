"""The differential corpus: public Metaflow flows, notebooks and scripts that nobody on this project wrote.

Each case names where its code lives (a public repository at a commit, or a
file inside a package on PyPI), the files it needs beside it, and the
commands to run. Nothing of theirs is copied into this repository: the
runner reads the files from a folder of fetched repositories, or from the
installed package. A case runs under Metaflow 2.19.39 as written and under
orch with only its import lines changed; the runner then compares what both
clients and CLIs show.

Cases of one ``group`` share a working folder and store and run in order,
because some read what an earlier one produced (a notebook reads the flow
before it, a flow reads another flow's latest run).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple

METAFLOW_PACKAGE = "pypi:metaflow==2.19.39"  # the tutorials ship inside Metaflow's wheel
DSBOOK = ("outerbounds/dsbook", "2c62aa73d08d36c023cbbbac4ecb3629e19c39b9")
TUTORIALS = ("outerbounds/tutorials", "5e8b8e9d9939de105afc5e2388bb0eecc08bcb4c")
CONFIGS = ("outerbounds/config-examples", "a768db8798b04037387c7575b5d754b16b4bf82d")


@dataclass(frozen=True)
class Case:
    """One flow, notebook or script, and what to run."""

    id: str
    group: str
    repo: str  # "owner/name", or METAFLOW_PACKAGE
    commit: str  # the commit the path is read at ("" for a package)
    path: str  # the flow, notebook (.ipynb) or script, inside the repository or package
    flow: Optional[str] = None  # the flow class whose latest run both clients are asked about
    commands: Tuple[Tuple[str, ...], ...] = (("run",),)  # each after `python FILE`; none for a notebook
    extra: Tuple[str, ...] = ()  # files beside it in the repository that it needs (data, configs, modules)
    files: Tuple[Tuple[str, str], ...] = ()  # inputs a user supplies (name, content): a CSV to pass in
    unstable: Tuple[str, ...] = ()  # artifacts the flow itself makes random: compared by name, not value
    masks: Tuple[Tuple[str, str], ...] = ()  # (regex, replacement) for output the flow makes variable
    unordered: bool = False  # output whose line order is the tool's listing order (Metaflow() lists flows
    # in the order its datastore folder does): compared as sorted lines
    excluded: str = ""  # why it cannot run here: listed, not counted

    @property
    def is_notebook(self) -> bool:
        return self.path.endswith(".ipynb")


def _tutorial(id_: str, path: str, **kwargs) -> Case:
    return Case(id_, "metaflow-tutorials", METAFLOW_PACKAGE, "", "metaflow/tutorials/" + path, **kwargs)


def _dsbook(id_: str, path: str, **kwargs) -> Case:
    return Case(id_, kwargs.pop("group", "dsbook"), DSBOOK[0], DSBOOK[1], path, **kwargs)


def _intro(id_: str, path: str, **kwargs) -> Case:
    return Case(id_, "ob-tutorials", TUTORIALS[0], TUTORIALS[1], "intro-to-mf/" + path, **kwargs)


def _config(id_: str, path: str, **kwargs) -> Case:
    return Case(id_, "config-examples", CONFIGS[0], CONFIGS[1], path, **kwargs)


# The playlist tutorials shuffle their picks with an unseeded random: the picks' names are masked
_PLAYLIST_RANDOM = (('(Bonus Pick|Pick \\d+|Top Pick): [^\\n\\\\"]*', "\\1: <random>"),)
# An IncludeFile: Metaflow stores an IncludedFile wrapper that its client unwraps, orch the text itself; the
# value steps and clients read is the same, only dump's type and size differ (see the docs' differences)
_INCLUDED = (("(movie_data|data) \\[size: \\d+ type: <class '[^']+'>\\]", "\\1 [IncludeFile]"),)

CASES: Tuple[Case, ...] = (
    # Metaflow's own tutorials (metaflow/tutorials in the wheel), in the order its docs walk through them
    _tutorial("tutorial-00-helloworld", "00-helloworld/helloworld.py", flow="HelloFlow"),
    _tutorial(
        "tutorial-01-playlist",
        "01-playlist/playlist.py",
        flow="PlayListFlow",
        extra=("metaflow/tutorials/01-playlist/movies.csv",),
        commands=(("run",), ("run", "--genre", "Comedy", "--recommendations", "3")),
        unstable=("bonus", "playlist", "movies"),
        masks=_PLAYLIST_RANDOM + _INCLUDED,
    ),
    _tutorial("tutorial-01-playlist-notebook", "01-playlist/playlist.ipynb", masks=_PLAYLIST_RANDOM),
    _tutorial(
        "tutorial-02-statistics",
        "02-statistics/stats.py",
        flow="MovieStatsFlow",
        extra=("metaflow/tutorials/02-statistics/movies.csv",),
        masks=_INCLUDED,
    ),
    _tutorial("tutorial-02-statistics-notebook", "02-statistics/stats.ipynb"),
    _tutorial(
        "tutorial-03-playlist-redux",
        "03-playlist-redux/playlist.py",
        flow="PlayListFlow",
        commands=(("run",), ("run", "--genre", "Drama")),
        unstable=("bonus", "playlist", "movies", "genres"),
        masks=_PLAYLIST_RANDOM,
    ),
    _tutorial(
        "tutorial-04-playlist-plus",
        "04-playlist-plus/playlist.py",
        excluded="needs conda-forge (@conda editdistance): no public conda channel is reachable here",
    ),
    _tutorial("tutorial-05-hello-cloud", "05-hello-cloud/hello-cloud.py", excluded="runs on AWS Batch or Kubernetes"),
    _tutorial("tutorial-06-statistics-redux-notebook", "06-statistics-redux/stats.ipynb"),
    _tutorial("tutorial-07-worldview-notebook", "07-worldview/worldview.ipynb", unordered=True),
    _tutorial("tutorial-08-autopilot-notebook", "08-autopilot/autopilot.ipynb", excluded="needs real AWS"),
    # "Effective Data Science Infrastructure" (Manning), its companion code, chapters 3, 4 and 6
    _dsbook("dsbook-helloworld", "chapter-3/helloworld.py", flow="HelloWorldFlow"),
    _dsbook("dsbook-counter", "chapter-3/counter.py", flow="CounterFlow"),
    _dsbook("dsbook-counter-branch", "chapter-3/counter_branch.py", flow="CounterBranchFlow"),
    _dsbook("dsbook-counter-branch-helper", "chapter-3/counter_branch_helper.py", flow="CounterBranchHelperFlow"),
    _dsbook("dsbook-foreach", "chapter-3/foreach.py", flow="ForeachFlow"),
    _dsbook("dsbook-wide-foreach", "chapter-3/wide_foreach.py", flow="WideForeachFlow"),
    _dsbook(
        "dsbook-json-parameter",
        "chapter-3/json_parameter.py",
        flow="JSONParameterFlow",
        commands=(("run",), ("run", "--mapping", '{"mapping": "changed", "n": 2}')),
    ),
    _dsbook(
        "dsbook-parameters",
        "chapter-3/parameters.py",
        flow="ParameterFlow",
        commands=(("run",), ("run", "--creature", "dog", "--count", "3", "--ratio", "0.25")),
    ),
    _dsbook(
        "dsbook-csv-file",
        "chapter-3/csv_file.py",
        flow="CSVFileFlow",
        files=(("animals.csv", "name;legs\ndog;4\nbird;2\n"),),
        commands=(("run", "--csv", "animals.csv", "--delimiter", ";"),),
        masks=_INCLUDED,
    ),
    _dsbook("dsbook-catch", "chapter-4/catchflow.py", flow="CatchDivideByZeroFlow"),
    _dsbook("dsbook-zerodiv", "chapter-4/zerodiv.py", flow="DivideByZeroFlow"),
    _dsbook(
        "dsbook-process-demo",
        "chapter-4/process_demo.py",
        flow="ProcessDemoFlow",
        masks=(("process ID is \\d+", "process ID is <pid>"),),
    ),
    _dsbook("dsbook-retry", "chapter-4/retryflow.py", excluded="random by design: the clock's parity decides"),
    _dsbook("dsbook-timeout", "chapter-4/timeoutflow.py", excluded="random by design: the clock decides"),
    _dsbook("dsbook-long-string", "chapter-4/long_string.py", excluded="allocates 8 GB on purpose"),
    _dsbook(
        "dsbook-classifier-train",
        "chapter-3/classifier_train.py",
        excluded="needs scikit-learn, which neither tool's test environment installs",
    ),
    _dsbook("dsbook-first-flow", "chapter-6/firstflow.py", flow="FirstFlow", group="dsbook-project"),
    _dsbook("dsbook-second-flow", "chapter-6/secondflow.py", flow="SecondFlow", group="dsbook-project"),
    _dsbook("dsbook-namespace-flow", "chapter-6/namespaceflow.py", flow="NamespaceFlow"),
    # Outerbounds' "Intro to Metaflow" tutorials
    _intro("ob-hello", "hello_flow.py", flow="Hello"),
    _intro("ob-minimum", "season-1/minimum_flow.py", flow="MinimumFlow"),
    _intro("ob-artifact", "season-1/artifact_flow.py", flow="ArtifactFlow"),
    _intro("ob-artifact-notebook", "season-1/S1E3-analysis.ipynb"),
    _intro(
        "ob-parameter",
        "season-1/parameter_flow.py",
        flow="ParameterizedFlow",
        commands=(("run",), ("run", "--lr", "0.1")),
    ),
    _intro("ob-decorator-card", "season-1/decorator_flow.py", flow="DecoratorFlow"),
    _intro(
        "ob-debuggable-resume",
        "season-3/debuggable_flow.py",
        flow="DebuggableFlow",
        commands=(("run",), ("resume", "error_prone_step")),
    ),
    # Outerbounds' Config examples
    _config(
        "config-timeout",
        "timeout/timeout_config.py",
        flow="TimeoutConfigFlow",
        extra=("timeout/myconfig.json",),
    ),
    _config("config-toml", "toml/toml_config.py", flow="TomlConfigFlow", extra=("toml/myconfig.toml",)),
    _config(
        "config-flow-level",
        "flow-level/toplevel.py",
        excluded="pandas and pyarrow from PyPI (its @trigger deploys with step-functions create)",
    ),
)


def by_id() -> Dict[str, Case]:
    return {case.id: case for case in CASES}
