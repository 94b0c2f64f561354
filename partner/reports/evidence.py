"""The evidence pack of a guideline group: the pooled cohort of an entity and its outcomes by stage
and by treatment, always suppressed, as a PDF.

It holds the entity's report (cohort, incidence, treatment types, overall survival, survival by
stage) and adds the combinations of treatment, event-free survival, overall survival by treatment
and a Cox model of stage, age and treatment together. Outcomes by treatment are observational:
treatments were chosen for each child, not at random, and the Cox model adjusts only for what it
names.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from django.utils.translation import gettext as _

from partner.analysis import Cohort, main_stage, survival_table, treatment_pattern
from partner.cases.frames import CaseFrames
from partner.dictionary.loader import Dictionary
from partner.release import Release

from .outcomes import cox_section, group_section, overall_section
from .report import build_report, treatment_labels
from .sections import Report, ReportTable, counts_shown, percent_shown

#: Treatment combinations are grouped as they are written; the main modalities of the Cox model.
COX_TREATMENTS = ("chemotherapy", "radiotherapy")


def build_evidence_pack(
    frames: CaseFrames,
    entity: str,
    dictionary: Dictionary,
    *,
    release: Release,
    population: pd.DataFrame | None = None,
    language: str = "en",
    today: dt.date | None = None,
) -> Report:
    """The evidence pack of `entity` over the cases in `frames` (the whole registry, for a pooled pack),
    always protected: it is a PDF, and leaves the registry."""
    release = release.downloaded()
    threshold = release.threshold
    report = build_report(
        frames,
        entity,
        dictionary,
        release=release,
        population=population,
        language=language,
        today=today,
    )
    report.kind = "evidence"
    if not report.cases:
        return report
    cases = Cohort(entity=entity).select(frames.cases)
    treatment = frames.repeating.get("treatment", pd.DataFrame(columns=["case_id", "line_type"]))
    follow_up = frames.repeating.get("follow_up")
    labels = treatment_labels(dictionary, language)
    order = list(labels)
    patterns = treatment_pattern(cases, treatment, order, none=_("no treatment recorded"))
    treatment_section = report.section("treatment")
    if treatment_section is not None:
        treatment_section.tables.append(_combinations(cases, patterns, labels, release))

    os_table = survival_table(cases, endpoint="overall")
    efs_table = survival_table(cases, follow_up, endpoint="event_free")
    after_os = [s.key for s in report.sections].index("os") + 1 if report.section("os") else len(report.sections)
    efs = overall_section(efs_table, report.name, release, endpoint="event_free", key="efs")
    efs.intro = _("Ends at the first relapse or progression, or at death, whichever comes first.")
    report.sections.insert(after_os, efs)
    if len(os_table) < threshold:
        return report

    by_case = dict(zip(cases["case_id"], patterns.map(lambda p: _pattern_label(p, labels)), strict=True))
    os_table = os_table.assign(treatment=os_table["case_id"].map(by_case))
    report.sections.append(
        group_section(
            os_table,
            "treatment",
            {},
            key="os_by_treatment",
            title=_("By treatment"),
            group_word=_("treatment"),
            release=release,
            note=_(
                "Observational: each child's treatment was chosen for them, so groups differ in more than "
                "treatment. Compare within stage, or see the Cox model."
            ),
        )
    )
    kinds = treatment[["case_id", "line_type"]].astype({"line_type": "object"})
    covariates = {"main_stage": _("stage"), "age": _("age at diagnosis (years)")}
    modelled = os_table.assign(main_stage=main_stage(os_table["stage_group"]).astype("object"))
    for kind in COX_TREATMENTS:
        had = set(kinds.loc[kinds["line_type"] == kind, "case_id"])
        modelled[kind] = modelled["case_id"].isin(had).astype(int)
        if modelled[kind].nunique() > 1:
            covariates[kind] = labels.get(kind, kind)
    report.sections.append(cox_section(modelled, covariates, release))
    return report


def _pattern_label(pattern: str, labels: dict[str, str]) -> str:
    return " + ".join(labels.get(part, part) for part in pattern.split(" + "))


def _combinations(cases: pd.DataFrame, patterns: pd.Series, labels: dict[str, str], release: Release) -> ReportTable:
    named = patterns.map(lambda p: _pattern_label(p, labels))
    cells = {combination: cases.loc[named == combination, "case_id"] for combination in sorted(set(named))}
    released = release.counts(cells)
    # The most frequent first, by the released counts (the true order would rank the hidden ones), then by name.
    order = sorted(cells, key=lambda c: (pd.isna(released[c]), -(0 if pd.isna(released[c]) else int(released[c])), c))
    shown = counts_shown(release, {c: cells[c] for c in order})
    frame = pd.DataFrame(
        {
            _("Treatment combination"): list(order),
            _("Cases"): shown.to_numpy(),
            _("% of cases"): percent_shown(shown, release.count(cases["case_id"])).to_numpy(),
        }
    )
    return ReportTable(
        "combinations", _("Combinations of treatment"), frame, _("Each case counts once, under all it had.")
    )
