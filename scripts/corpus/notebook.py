"""Run a notebook's code cells in order, as "Run All" would, and print what each shows.

Usage: python notebook.py NOTEBOOK.ipynb   (with the Python of the tool under test)

Each cell runs in one shared namespace; a cell whose last statement is an
expression prints its ``repr``, as Jupyter shows ``Out[n]``. The first
cell that raises stops the run, as it stops "Run All", with one line
naming the cell and the exception's type and message. IPython magics
(``%matplotlib inline``) and shell lines (``!pip ...``) are skipped.
Matplotlib draws off-screen. Standard library only.
"""

from __future__ import annotations

import ast
import json
import os
import sys


def cells(path: str) -> list:
    with open(path, encoding="utf-8") as handle:
        notebook = json.load(handle)
    found = []
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = "".join(cell.get("source", []))
        lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        found.append("\n".join(lines))
    return found


def run_cell(source: str, namespace: dict) -> None:
    tree = ast.parse(source)
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    if last is not None:
        tree.body = tree.body[:-1]
    exec(compile(tree, "<cell>", "exec"), namespace)  # noqa: S102 - running the notebook is the point
    if last is not None:
        value = eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace)  # noqa: S307
        if value is not None:
            print(repr(value))


def catchable_name(exc: Exception) -> str:
    """The name a notebook would catch the exception by: the first class of its MRO that is a builtin or
    one of the tool's own Metaflow exception classes (orch's subclasses carry those too)."""
    for kind in type(exc).__mro__:
        if kind.__module__ == "builtins" or kind.__module__.endswith(".exception"):
            return kind.__name__
    return type(exc).__name__


def main(path: str) -> int:
    os.environ.setdefault("MPLBACKEND", "Agg")
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    namespace: dict = {"__name__": "__main__"}
    for number, source in enumerate(cells(path), start=1):
        print("--- cell %d" % number)
        try:
            run_cell(source, namespace)
        except Exception as exc:
            print("--- cell %d raised %s" % (number, catchable_name(exc)))
            print("%s: %s" % (type(exc).__name__, exc), file=sys.stderr)
            return 1
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
