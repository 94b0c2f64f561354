"""The report of one tumour entity, built from the case frames: who the children are, how many
there are for the population, how they were treated and how they fare.

The same report makes the page, the PDF and the CSV files (see `sections`); the evidence pack of
a guideline group (`evidence`) adds outcomes by treatment and the Cox model.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Hashable
from typing import Any

import pandas as pd
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from partner.analysis import Cohort, age_at_diagnosis, age_group, describe, main_stage, one_per_child, survival_table
from partner.cases.frames import CaseFrames
from partner.dictionary.loader import Dictionary
from partner.release import Release

from .incidence import incidence_section
from .outcomes import group_section, overall_section
from .sections import DASH, Report, ReportTable, Section, counts_shown, percent_shown, shown_text

__all__ = ["Report", "ReportTable", "Section", "build_report"]


def _variable_label(code: str) -> str:
    labels = {
        "sex": _("Sex"),
        "age_group": _("Age group (years)"),
        "country": _("Country"),
        "stage_group": _("Stage (main group)"),
        "metastatic_at_diagnosis": _("Metastases at diagnosis"),
    }
    return labels.get(code, code)


def _labels(children: pd.DataFrame, variable: str) -> pd.Series:
    """Each child's level of `variable` as describe() writes it ("missing" where there is none)."""
    column = age_group(age_at_diagnosis(children)) if variable == "age_group" else children[variable]
    return column.astype("object").map(lambda v: "missing" if pd.isna(v) else str(v))


def description_table(children: pd.DataFrame, release: Release) -> ReportTable:
    """Counts and percentages of each characteristic, each variable released on its own (its counts
    add up to the number of children), with the median age and its quartiles."""
    table = describe(children)
    total = release.count(children["case_id"])
    parts = []
    for variable in [v for v in table.index.get_level_values("variable").unique() if v != "cases"]:
        if variable.startswith("age at diagnosis"):
            continue
        levels = list(table.loc[variable].index)
        labels = _labels(children, variable)
        shown = counts_shown(release, {lv: children.loc[labels == lv, "case_id"] for lv in levels})
        parts.append(
            pd.DataFrame(
                {
                    _("Characteristic"): _variable_label(variable),
                    _("Level"): [_("missing") if lv == "missing" else lv for lv in levels],
                    _("Children"): shown.to_numpy(),
                    "%": percent_shown(shown, total).to_numpy(),
                }
            )
        )
    age: Any = table.loc["age at diagnosis (years)", ("all", "value")]
    if total is not None and (release.exact or total >= release.threshold):
        parts.append(
            pd.DataFrame(
                {
                    _("Characteristic"): _("Age at diagnosis (years)"),
                    _("Level"): [_("median (quartiles)")],
                    _("Children"): [f"{age['median']:.1f} ({age['q1']:.1f}{DASH}{age['q3']:.1f})"],
                    "%": [""],
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return ReportTable("cohort", _("Children at diagnosis"), frame)


def treatment_table(
    cases: pd.DataFrame, treatment: pd.DataFrame, labels: dict[str, str], release: Release
) -> ReportTable:
    """The share of cases with at least one treatment line of each type (a case counts under
    every type it had, so the rows add up to more than the cases)."""
    ids = set(cases["case_id"].dropna().astype(int))
    lines = treatment[treatment["case_id"].isin(ids)] if len(treatment) else treatment
    cells: dict[Hashable, Collection[int]] = {
        code: set(lines.loc[lines["line_type"].astype("object") == code, "case_id"].astype(int))
        if len(lines)
        else set()
        for code in labels
    }
    cells[_("no treatment recorded")] = ids - set(lines["case_id"].dropna().astype(int)) if len(lines) else ids
    shown = counts_shown(release, cells)
    frame = pd.DataFrame(
        {
            _("Treatment"): [labels.get(str(code), str(code)) for code in cells],
            _("Cases"): shown.to_numpy(),
            _("% of cases"): percent_shown(shown, release.count(ids)).to_numpy(),
        }
    )
    return ReportTable(
        "treatment", _("Treatment patterns"), frame, _("A case counts under every type of treatment it had.")
    )


def treatment_labels(dictionary: Dictionary, language: str) -> dict[str, str]:
    """The treatment types of the dictionary, in its order, with their labels."""
    form = dictionary.form_by_code["treatment"]
    line_type = next(f for f in form.fields if f.code == "line_type")
    return {c.code: c.labels.get(language) for c in line_type.choices}


def stage_section(table: pd.DataFrame, release: Release, *, endpoint: str = "overall") -> Section:
    stages = main_stage(table["stage_group"]) if "stage_group" in table else pd.Series(pd.NA, index=table.index)
    staged = table.assign(main_stage=stages)
    return group_section(
        staged,
        "main_stage",
        {},
        key="os_by_stage" if endpoint == "overall" else "efs_by_stage",
        title=_("By stage at diagnosis"),
        group_word=_("stage"),
        release=release,
        endpoint=endpoint,
        note=_(
            "Main stage (I to IV) of the stage recorded at diagnosis, whatever its system; subgroups (IIIB) are merged."
        ),
    )


def build_report(
    frames: CaseFrames,
    entity: str,
    dictionary: Dictionary,
    *,
    release: Release,
    population: pd.DataFrame | None = None,
    language: str = "en",
    today: dt.date | None = None,
) -> Report:
    """The report of `entity` over the cases in `frames` (`release.frames(entity=...)`), every figure
    released by `release`, with its incidence when `population` (see `population.population_frame`)
    is given."""
    today = today or dt.date.today()
    name = dictionary.entity_by_code[entity].names.get(language)
    cases = Cohort(entity=entity).select(frames.cases) if len(frames.cases) else frames.cases
    children, _later = one_per_child(cases)
    report = Report(
        entity,
        name,
        today,
        release.count(children["case_id"]) if len(cases) else 0,
        len(cases),
        release.threshold,
        not release.exact,
    )
    if not len(cases):
        return report
    cohort = Section("cohort", _("The children"))
    staged = children.assign(stage_group=main_stage(children["stage_group"])) if "stage_group" in children else children
    cohort.tables.append(description_table(staged, release))
    report.sections.append(cohort)
    if population is not None:
        report.sections.append(incidence_section(cases, population, release, today=today))
    labels = treatment_labels(dictionary, language)
    treatment = frames.repeating.get("treatment", pd.DataFrame(columns=["case_id", "line_type"]))
    report.sections.append(
        Section("treatment", _("Treatment"), tables=[treatment_table(cases, treatment, labels, release)])
    )
    table = survival_table(cases, endpoint="overall")
    survival = overall_section(table, name, release)
    excluded = set(children["case_id"]) - set(table["case_id"])
    if excluded:
        left_out = release.count(excluded)
        survival.notes.append(
            ngettext(  # a hidden count ("<5") reads as several
                "%(n)s child left out for missing or inconsistent dates.",
                "%(n)s children left out for missing or inconsistent dates.",
                left_out if left_out is not None else release.threshold,
            )
            % {"n": shown_text(left_out, release.threshold)}
        )
    report.sections.append(survival)
    if len(table) >= release.threshold:
        report.sections.append(stage_section(table, release))
    return report
