"""The DAG as a picture (SVG or PNG), drawn by Graphviz's ``dot`` from ``render.to_dot``."""

from __future__ import annotations

from ..errors import OrchError

PICTURE_FORMATS = ("svg", "png")


class GraphvizMissingError(OrchError):
    """Graphviz's dot is not installed."""


def draw(dot_text: str, fmt: str) -> bytes:
    """``dot -T<fmt>`` of ``dot_text``; a clear error when Graphviz is missing or fails."""
    import shutil
    import subprocess

    assert fmt in PICTURE_FORMATS
    binary = shutil.which("dot")
    if binary is None:
        raise GraphvizMissingError(
            "Drawing the graph as %s needs Graphviz's dot, which is not installed." % fmt,
            "Install it (Debian/Ubuntu: apt-get install graphviz; make install does), "
            "or use --format dot and draw it elsewhere.",
        )
    result = subprocess.run([binary, "-T" + fmt], input=dot_text.encode(), capture_output=True, timeout=60)
    if result.returncode != 0:
        raise OrchError("Graphviz failed to draw the graph: %s" % result.stderr.decode(errors="replace").strip())
    return result.stdout
