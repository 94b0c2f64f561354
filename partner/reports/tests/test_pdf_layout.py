"""The report PDFs as printed on A4: nothing past the margins, a table continued on a new page under its
header row, and no page but the last left mostly empty. Read back with pdfplumber from the PDF bytes."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pandas as pd
import pdfplumber

from partner.release import Policy, Release
from partner.reports.evidence import build_evidence_pack
from partner.reports.pdf import A4, BOTTOM, MARGIN, TOP, render_pdf
from partner.reports.population import load_population, population_frame
from partner.reports.report import build_report
from partner.reports.sections import DASH, Report, ReportTable, Section
from partner.reports.tests.test_evidence import frames
from partner.reports.tests.test_population import eurostat
from partner.testing import RegistryTestCase

GROUPS = {
    ("I", ("surgery",)): 25,
    ("I", ("surgery", "chemotherapy")): 15,
    ("II", ("surgery", "chemotherapy")): 20,
    ("II", ("surgery",)): 15,
    ("IIIA", ("surgery", "chemotherapy", "radiotherapy")): 15,
    ("IIIA", ("surgery", "chemotherapy")): 15,
    ("IV", ("chemotherapy",)): 20,
    ("IV", ("surgery", "chemotherapy", "radiotherapy")): 10,
}
POINTS = 72
LEFT, RIGHT = MARGIN * POINTS, (A4[0] - MARGIN) * POINTS
HIGHEST, LOWEST = TOP * POINTS, (A4[1] - BOTTOM) * POINTS
CENTRE = re.compile(r"[A-Z]{2}-\d{3}")
YEARS = [str(y) for y in range(2000, 2026)]  # too many columns for one A4 page at any legible size

_rendered: dict[str, bytes] = {}


def by_centre() -> Section:
    """A long table (it runs over more than a page) and a wide one (a column a year), as a registry with
    many centres and a long history would have."""
    centres = pd.DataFrame(
        {
            "Centre": [f"{['IT', 'FR', 'DE'][i % 3]}-{i:03d}" for i in range(1, 91)],
            "Children": [str(5 + i % 7) for i in range(90)],
            "Deaths": ["<5"] * 90,
            "5-year survival (95% CI)": [f"{60 + i % 30}% ({40 + i % 30}%{DASH}{75 + i % 20}%)" for i in range(90)],
        }
    )
    years = pd.DataFrame(
        {"Country": ["IT", "FR", "DE", "Every country"], **{y: ["12", "<5", "7", "23"] for y in YEARS}}
    )
    return Section(
        "centres",
        "By centre",
        intro="Children registered by each centre, and by year of diagnosis.",
        tables=[
            ReportTable("centres", "Children by centre", centres, "Centres with fewer than 5 children are pooled."),
            ReportTable("years", "Cases by year of diagnosis and country", years),
        ],
    )


class PrintedReportTestCase(RegistryTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        load_population(
            io.BytesIO(eurostat({"IT": 50_000, "FR": 60_000, "DE": 70_000}, range(2010, 2026)).encode()), name="p.tsv"
        )

    def report(self, kind: str) -> Report:
        release = Release(None, Policy(exact=False, threshold=5)).downloaded()
        build = build_evidence_pack if kind == "evidence" else build_report
        report = build(
            frames(GROUPS),
            "ACC",
            self.dictionary,
            release=release,
            population=population_frame(),
            today=dt.date(2026, 11, 1),
        )
        report.sections.append(by_centre())
        return report

    def pdf(self, kind: str) -> bytes:
        if kind not in _rendered:
            _rendered[kind] = render_pdf(self.report(kind))
        return _rendered[kind]

    def pages(self, kind: str) -> list[Any]:
        with pdfplumber.open(io.BytesIO(self.pdf(kind))) as pdf:
            return [
                {
                    "number": page.page_number,
                    "size": (page.width, page.height),
                    "objects": [
                        (name, o) for name in ("chars", "lines", "rects", "images") for o in getattr(page, name)
                    ],
                    "words": page.extract_words(extra_attrs=["fontname"]),
                    "text": page.extract_text(),
                }
                for page in pdf.pages
            ]


class EverythingInsideTheMargins(PrintedReportTestCase):
    def outside(self, kind: str) -> list[str]:
        found = []
        for page in self.pages(kind):
            self.assertEqual([round(s) for s in page["size"]], [round(A4[0] * POINTS), round(A4[1] * POINTS)])
            for name, o in page["objects"]:
                if (
                    o["x0"] < LEFT - 0.5
                    or o["x1"] > RIGHT + 0.5
                    or o["top"] < HIGHEST - 0.5
                    or o["bottom"] > LOWEST + 0.5
                ):
                    what = o.get("text") or name
                    found.append(f"page {page['number']}: {what} at x {o['x0']:.0f}-{o['x1']:.0f}, y {o['top']:.0f}")
        return found

    def test_nothing_of_the_entity_report_crosses_the_margins(self) -> None:
        outside = self.outside("report")
        self.assertEqual(outside, [], f"{len(outside)} outside the margins, first: {outside[:12]}")

    def test_nothing_of_the_evidence_pack_crosses_the_margins(self) -> None:
        outside = self.outside("evidence")
        self.assertEqual(outside, [], f"{len(outside)} outside the margins, first: {outside[:12]}")


class TablesOverSeveralPages(PrintedReportTestCase):
    def test_every_page_a_table_continues_onto_starts_with_its_header_row(self) -> None:
        for kind in ("report", "evidence"):
            pages = [p for p in self.pages(kind) if any(CENTRE.fullmatch(w["text"]) for w in p["words"])]
            self.assertGreaterEqual(len(pages), 2, "the long table runs over more than one page")
            seen: list[str] = []
            for page in pages:
                rows = [w for w in page["words"] if CENTRE.fullmatch(w["text"])]
                first_row = min(w["top"] for w in rows)
                header = [w for w in page["words"] if w["text"] in ("Centre", "Children", "Deaths", "5-year")]
                header_above = {w["text"] for w in header if w["top"] < first_row and "Bold" in w["fontname"]}
                self.assertEqual(header_above, {"Centre", "Children", "Deaths", "5-year"}, f"page {page['number']}")
                if page is not pages[0]:
                    self.assertIn("Children by centre (continued)", page["text"])
                seen += [w["text"] for w in rows]
            self.assertEqual(seen, [f"{['IT', 'FR', 'DE'][i % 3]}-{i:03d}" for i in range(1, 91)], "every row once")

    def test_a_table_too_wide_for_the_page_keeps_every_column(self) -> None:
        for kind in ("report", "evidence"):
            text = "\n".join(p["text"] for p in self.pages(kind))
            self.assertIn("Cases by year of diagnosis and country", text)
            for year in YEARS:
                self.assertIn(year, text)
            self.assertIn("5-year survival", text)
            # split into parts, each led by the first column so that a row can be read across them
            self.assertIn("Cases by year of diagnosis and country (part 2 of 2)", text)
            self.assertEqual(text.count("Every country"), 2)


class NoPageLeftNearlyEmpty(PrintedReportTestCase):
    def filled(self, page: dict[str, Any]) -> float:
        """The share of the page's height between the margins that holds something: the union of the
        heights of its objects, a line's gap to the next counted with it."""
        paper = page["size"][1] * 0.9  # the paper's own background is not content
        spans = sorted((o["top"] - 6, o["bottom"] + 6) for _name, o in page["objects"] if o["height"] < paper)
        covered, end = 0.0, HIGHEST
        for top, bottom in spans:
            top, bottom = max(top, end, HIGHEST), min(bottom, LOWEST)
            if bottom > top:
                covered += bottom - top
                end = bottom
        return covered / (LOWEST - HIGHEST)

    def test_no_page_but_the_last_is_less_than_a_third_full(self) -> None:
        for kind in ("report", "evidence"):
            pages = self.pages(kind)
            sparse = [f"page {p['number']}: {self.filled(p):.0%}" for p in pages[:-1] if self.filled(p) < 1 / 3]
            self.assertEqual(sparse, [], kind)

    def test_the_first_page_holds_the_summary_and_the_first_section(self) -> None:
        first = self.pages("report")[0]["text"]
        self.assertIn("Adrenocortical carcinoma", first)
        self.assertIn("Children in the cohort", first)
        self.assertIn("The children", first)
