"""What every figure of the registry shares: one matplotlib style, and inline SVG a page can hold.

Figures are drawn with matplotlib's object interface (`Figure(...)`, never pyplot), so a server
thread keeps no global figure state.
"""

from __future__ import annotations

import io
import re
import textwrap
from contextlib import AbstractContextManager
from html import escape
from typing import Literal

import matplotlib as mpl
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import FixedFormatter, FixedLocator, FuncFormatter, MaxNLocator

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


#: A figure for a phone is drawn this wide (inches), no text in it smaller than NARROW_FONT points: it
#: fills a column of 350 px, so its labels come out at 15 px or more (a digit 9.5 px high), where those
#: of a 7-inch figure would be 6 px. The page shows it below 640 px (partner.css, "figures").
NARROW_WIDTH, NARROW_FONT = 3.5, 11.0
X: Literal["x"] = "x"
Y: Literal["y"] = "y"
#: Longest line of a tick label in the narrow figure, in characters (beside a bar, it leaves the bar room).
TICK_LINE = 18


def _render(fig: Figure, title: str, name: str, kind: str) -> tuple[str, str]:
    """The figure as an inner <svg> of the given kind (its ids prefixed), and its viewBox."""
    buffer = io.StringIO()
    with styled():
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Title": title})
    text = buffer.getvalue()
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text[text.index("<svg") :], count=1, flags=re.DOTALL)
    text = re.sub(r"\s*<title>.*?</title>", "", text, count=1, flags=re.DOTALL)  # the outer <svg> is named
    end = text.index(">")
    box = re.search(r'\sviewBox="([^"]+)"', text[:end])
    view_box = box.group(1) if box else "0 0 0 0"
    body = re.sub(r'(\sid="|url\(#|href="#)', rf"\g<1>{name}-", text[end:])
    inner = f'<svg class="figure-{kind}" viewBox="{view_box}" width="100%" height="100%"{body}'
    return inner, view_box


def _wrapped(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width, break_long_words=False)) if len(text) > width else text


def _line_length(size: float) -> int:
    """How many characters of that size make a line across the narrow figure's plot."""
    return max(12, int(NARROW_WIDTH * 72 * 0.75 / (0.6 * size)))


def _narrow_axis(axis: Axis, name: Literal["x", "y"], fig_width: float) -> float:
    """Larger tick labels, wrapped when they are words, fewer of them along x; how many times the lines
    of the labels along y have grown."""
    labels = axis.get_ticklabels(which="both")
    size = max([float(label.get_fontsize()) for label in labels], default=NARROW_FONT)
    axis.axes.tick_params(axis=name, which="both", labelsize=max(size, NARROW_FONT))
    locator, formatter = axis.get_major_locator(), axis.get_major_formatter()
    if isinstance(locator, MaxNLocator):
        locator.set_params(nbins="auto")  # as many as the narrower axis has room for
    if not (isinstance(locator, FixedLocator) and isinstance(formatter, FixedFormatter | FuncFormatter)):
        return 1.0  # numbers: never wrapped
    locs = list(axis.get_ticklocs())
    before = [str(text) for text in formatter.format_ticks(locs)]
    texts = [_wrapped(" ".join(text.split()), TICK_LINE) for text in before]
    crowded = False
    if name == "x" and texts:
        longest = max(len(line) for text in texts for line in text.split("\n"))
        room = max(1, int(fig_width * 72 * 0.8 / (0.62 * max(size, NARROW_FONT) * longest + 8)))
        crowded = len(texts) > room
        if crowded and all(text.isdigit() for text in texts):  # years: every other one says enough
            step = -(-len(texts) // room)
            locs, texts, crowded = locs[::step], texts[::step], False
    axis.set_ticks(locs, texts)
    if crowded:  # names: each is needed, standing up
        axis.axes.tick_params(axis="x", labelrotation=90)
    if name == "x" or not texts:
        return 1.0
    return sum(text.count("\n") + 1 for text in texts) / sum(text.count("\n") + 1 for text in before)


#: A grid of coloured cells, each with its number, is redrawn narrow up to this many columns.
NARROW_GRID_COLUMNS = 3


def narrowable(fig: Figure) -> bool:
    """Whether the figure reads when redrawn narrow: not a grid of more columns than a phone has room for."""
    return all(image.get_size()[1] <= NARROW_GRID_COLUMNS for ax in fig.get_axes() for image in ax.images)


def _titles_across(fig: Figure) -> None:
    """A lone plot title moves to the top of the figure: beside a column of long labels, the room right of
    the plot's left edge is too small for it."""
    titled = [(ax, ax.get_title(loc="left")) for ax in fig.get_axes() if ax.get_title(loc="left")]
    if len(titled) != 1 or fig.get_suptitle():
        return
    ax, title = titled[0]
    style = ax.title
    ax.set_title("", loc="left")
    fig.suptitle(title, x=0.01, ha="left", fontsize=style.get_fontsize(), fontweight=style.get_fontweight())


def _narrow(fig: Figure) -> bool:
    """Make the figure phone-wide, with larger type and its long labels on several lines; False when it
    is narrow already."""
    width, height = fig.get_size_inches()
    if width <= NARROW_WIDTH or not narrowable(fig):
        return False
    ticks = {
        label for ax in fig.get_axes() for axis in (ax.xaxis, ax.yaxis) for label in axis.get_ticklabels(which="both")
    }
    _titles_across(fig)
    for text in fig.findobj(Text):
        if text not in ticks and text.get_text():
            size = max(float(text.get_fontsize()), NARROW_FONT)
            text.set_fontsize(size)
            text.set_text(_wrapped(text.get_text(), _line_length(size)))
    # Labels beside bars that now take more lines need the rows to be as much taller.
    growth = max([_narrow_axis(ax.xaxis, X, NARROW_WIDTH) for ax in fig.get_axes()], default=1.0)
    growth = max([growth, *(_narrow_axis(ax.yaxis, Y, NARROW_WIDTH) for ax in fig.get_axes())])
    fig.set_size_inches(NARROW_WIDTH, height * growth)
    return True


def svg(fig: Figure, title: str, name: str) -> str:
    """The figure as inline SVG: no XML prologue, scales with the page, named for screen readers.

    It holds two drawings, the figure as drawn and, when that is wider than a phone, the same figure
    redrawn phone-wide (the figure is left so): the page's style shows the one that fits the screen
    (partner.css, "figures"), so a label is never shrunk to a few pixels. Element ids are prefixed
    with `name`, so several figures in one page never share an id.
    """
    width = fig.get_size_inches()[0]
    wide, wide_box = _render(fig, title, name, "wide")
    style = [f"--wide-ratio:{_ratio(wide_box)};--wide-width:{_width(wide_box)}pt"]
    drawings = [wide]
    if _narrow(fig):
        narrow, narrow_box = _render(fig, title, f"{name}-narrow", "narrow")
        style.append(f"--narrow-ratio:{_ratio(narrow_box)}")
        drawings.append(narrow)
    # A wide figure that cannot be redrawn narrow keeps its size on a phone and scrolls inside its <figure>.
    kind = " two" if len(drawings) > 1 else " scrolls" if width > NARROW_WIDTH else ""
    label = escape(title, quote=True)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" class="figure{kind}" '
        f'role="img" aria-label="{label}" style="{";".join(style)}">'
        f"<title>{escape(title)}</title>{''.join(drawings)}</svg>"
    )


def _ratio(view_box: str) -> str:
    _x, _y, width, height = view_box.split()
    return f"{width} / {height}"


def _width(view_box: str) -> str:
    return view_box.split()[2]
