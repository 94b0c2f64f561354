"""What every figure of the registry shares: one matplotlib style, and inline SVG a page can hold.

Figures are drawn with matplotlib's object interface (`Figure(...)`, never pyplot), so a server
thread keeps no global figure state.
"""

from __future__ import annotations

import io
import re
from contextlib import AbstractContextManager
from html import escape

import matplotlib as mpl
from matplotlib.figure import Figure

mpl.use("Agg")

#: Colours told apart by people with the common colour-vision deficiencies (Okabe and Ito).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")

STYLE = {
    "svg.fonttype": "none",  # real text in the page: selectable, searchable, read by screen readers
    "svg.hashsalt": "partner",  # the same numbers give the same SVG
    "text.parse_math": False,  # a "$" in a label is a dollar, not mathematics
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#56606B",
    "xtick.color": "#1D2733",
    "ytick.color": "#1D2733",
    "axes.labelcolor": "#1D2733",
    "text.color": "#1D2733",
}


def styled() -> AbstractContextManager[None]:
    """The registry's style, for drawing a figure and for saving it."""
    return mpl.rc_context(STYLE)  # type: ignore[arg-type]  # the stubs want every key as a literal


def svg(fig: Figure, title: str, name: str) -> str:
    """The figure as inline SVG: no XML prologue, scales with the page, named for screen readers.

    Its element ids are prefixed with `name`, so several figures in one page never share an id.
    """
    buffer = io.StringIO()
    with styled():
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Title": title})
    text = buffer.getvalue()
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text[text.index("<svg") :], count=1, flags=re.DOTALL)
    end = text.index(">")
    opening = text[:end]
    width = re.search(r'\swidth="([^"]+)"', opening)
    opening = re.sub(r'\s(width|height)="[^"]*"', "", opening)
    size = f' width="100%" style="max-width:{width.group(1)};height:auto"' if width else ""
    body = re.sub(r'(\sid="|url\(#|href="#)', rf"\g<1>{name}-", text[end:])
    return f'{opening} role="img" aria-label="{escape(title, quote=True)}"{size}{body}'
