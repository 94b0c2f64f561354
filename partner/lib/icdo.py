"""ICD-O-3 codes: parsing, normalising and code sets, without Django.

Morphology is a four-digit histology code and a one-digit behaviour ("8370/3"). Topography is
C00.0-C80.9 ("C74.0"); the dot is optional on input ("C740"). Code sets are written as
comma-separated codes and ranges ("8370-8375, 8158"; "C18.0-C18.9, C19.9, C20").
A topography written without its subsite ("C18") means the whole three-character category.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Marks the messages users see for the catalogues; translating needs no configured Django.
from django.utils.translation import gettext_noop

BEHAVIOURS = {
    0: "benign",
    1: "uncertain",
    2: "in situ",
    3: "malignant",
    6: "metastatic",
    9: "uncertain primary or metastatic",
}

_MORPHOLOGY = re.compile(r"^\s*(?P<hist>\d{4})\s*(?:/\s*(?P<beh>\d))?\s*$")
_MORPHOLOGY_COMPACT = re.compile(r"^\s*(?P<hist>\d{4})(?P<beh>\d)\s*$")
_TOPOGRAPHY = re.compile(r"^\s*[Cc]\s*(?P<cat>\d{2})(?:\.?(?P<sub>\d))?\s*$")


class CodeError(ValueError):
    """A code that is not valid ICD-O-3; the message says what was expected.

    `template` and `params` let a caller show the message in the user's language:
    `gettext(exc.template) % exc.params` (the templates are in the translation catalogues).
    """

    def __init__(self, template: str, **params: object):
        self.template = template
        self.params = params
        super().__init__(template % params if params else template)


@dataclass(frozen=True, order=True)
class Morphology:
    histology: int
    behaviour: int

    def __str__(self) -> str:
        return f"{self.histology:04d}/{self.behaviour}"


def parse_morphology(text: str) -> Morphology:
    """Parse "8370/3" (or "83703") into histology and behaviour."""
    value = str(text)
    m = _MORPHOLOGY.match(value) or _MORPHOLOGY_COMPACT.match(value)
    if not m or m.group("beh") is None:
        raise CodeError(
            gettext_noop(
                "morphology %(value)s is not an ICD-O-3 morphology: expected four digits, a slash "
                "and the behaviour digit, e.g. 8370/3"
            ),
            value=repr(value),
        )
    histology, behaviour = int(m.group("hist")), int(m.group("beh"))
    if not 8000 <= histology <= 9999:
        raise CodeError(
            gettext_noop("morphology %(value)s: histology must lie between 8000 and 9999"), value=repr(value)
        )
    if behaviour not in BEHAVIOURS:
        raise CodeError(
            gettext_noop("morphology %(value)s: behaviour %(behaviour)s is not one of 0, 1, 2, 3, 6, 9"),
            value=repr(value),
            behaviour=behaviour,
        )
    return Morphology(histology, behaviour)


def topography_key(text: str) -> int:
    """Parse "C74.0" or "C740" into the integer 740 (category * 10 + subsite)."""
    value = str(text)
    m = _TOPOGRAPHY.match(value)
    if not m or m.group("sub") is None:
        raise CodeError(
            gettext_noop(
                "topography %(value)s is not an ICD-O-3 topography: expected C, two digits, "
                "a dot and the subsite digit, e.g. C74.0"
            ),
            value=repr(value),
        )
    key = int(m.group("cat")) * 10 + int(m.group("sub"))
    if key > 809:
        raise CodeError(gettext_noop("topography %(value)s: ICD-O-3 topography ends at C80.9"), value=repr(value))
    return key


def normalise_topography(text: str) -> str:
    """Return the canonical spelling "C74.0" of a topography code."""
    return format_topography(topography_key(text))


def format_topography(key: int) -> str:
    return f"C{key // 10:02d}.{key % 10}"


def _topography_bound(text: str, *, upper: bool) -> int:
    m = _TOPOGRAPHY.match(text)
    if not m:
        raise CodeError(f"{text!r} is not a topography code or category (e.g. C18 or C18.7)")
    cat = int(m.group("cat"))
    if m.group("sub") is None:
        return cat * 10 + (9 if upper else 0)
    return cat * 10 + int(m.group("sub"))


def _split(spec: str | list[str]) -> list[str]:
    parts = spec if isinstance(spec, list) else str(spec).split(",")
    return [p.strip() for p in parts if str(p).strip()]


@dataclass(frozen=True)
class CodeSet:
    """A set of integer codes held as closed ranges; parsed from the written form."""

    ranges: tuple[tuple[int, int], ...]
    text: str

    def __contains__(self, code: object) -> bool:
        return isinstance(code, int) and any(lo <= code <= hi for lo, hi in self.ranges)

    def __str__(self) -> str:
        return self.text

    def __bool__(self) -> bool:
        return bool(self.ranges)


def histology_set(spec: str | list[str]) -> CodeSet:
    """Parse "8370-8375, 8158" into a set of histology codes."""
    ranges = []
    for part in _split(spec):
        lo, _, hi = part.partition("-")
        try:
            a, b = int(lo), int(hi or lo)
        except ValueError:
            raise CodeError(f"{part!r} is not a histology code or range (e.g. 8370-8375)") from None
        if not (8000 <= a <= b <= 9999):
            raise CodeError(f"{part!r} is not a histology range between 8000 and 9999")
        ranges.append((a, b))
    return CodeSet(tuple(ranges), ", ".join(_split(spec)))


def topography_set(spec: str | list[str]) -> CodeSet:
    """Parse "C18.0-C18.9, C20" into a set of topography keys (see topography_key)."""
    ranges = []
    for part in _split(spec):
        lo, _, hi = part.partition("-")
        a = _topography_bound(lo.strip(), upper=False)
        b = _topography_bound((hi or lo).strip(), upper=True)
        if a > b or b > 809:
            raise CodeError(f"{part!r} is not a topography range within C00.0-C80.9")
        ranges.append((a, b))
    return CodeSet(tuple(ranges), ", ".join(_split(spec)))
