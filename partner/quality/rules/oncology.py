"""The cancer-registry checks: morphology, sex, site, basis of diagnosis and grade (dates: rules.dates).

Based on the IARC/IACR checks (Ferlay et al., IARC Technical Report 42, 2005) and the JRC-ENCR
common procedure for European registries (Martos et al., 2018, EUR 29089 EN). A missing value
never fails a rule here: missing values are the business of the "required" rules.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .base import (
    ERROR,
    QUERY,
    WARNING,
    Context,
    Rule,
    any_of,
    codes_in,
    mask,
    per_distinct,
    site_parts,
)
from .dates import DATE_RULES, IARC, age_at_diagnosis

CARCINOMA = (8010, 8589)
MELANOCYTIC = (8720, 8799)

Check = Callable[[Context], pd.Series]
Codes = tuple[tuple[int, int] | int, ...]


def _site(ctx: Context) -> pd.Series:
    """The topography's three-character category as a number ("C74.0" gives 74)."""
    return ctx.cached(
        "site_number",
        lambda: per_distinct(
            ctx.cases["topography"], lambda t: pd.to_numeric(t.str.slice(1, 3), errors="coerce").astype("Int64")
        ),
    )


# --- Morphology and behaviour -----------------------------------------------------------------


def _behaviour_in(*codes: int) -> Check:
    def check(ctx: Context) -> pd.Series:
        return codes_in(ctx.morphology()[1], *codes)

    return check


# Histologies accepted with behaviour /2, kept broad so that no valid ICD-O-3(.2) in-situ term
# fails: the carcinomas 8010-8589, the melanocytic tumours 8720-8799, and 9064 and 9085 (germ
# cell neoplasia in situ).
IN_SITU_HISTOLOGIES = (CARCINOMA, MELANOCYTIC, 9064, 9085)


def _in_situ_histology(ctx: Context) -> pd.Series:
    histology, behaviour = ctx.morphology()
    return codes_in(behaviour, 2) & histology.notna() & ~codes_in(histology, *IN_SITU_HISTOLOGIES)


def _in_situ_site(ctx: Context) -> pd.Series:
    return codes_in(ctx.morphology()[1], 2) & codes_in(_site(ctx), (40, 42), 47, 49, (70, 72))


MORPHOLOGY_RULES = [
    Rule(
        "MORPH-BENIGN",
        QUERY,
        _(
            "The morphology is benign or of uncertain behaviour (/0 or /1), normally not registered: "
            "confirm it (some very rare tumours are /1 in ICD-O-3.2) or correct it."
        ),
        ("diagnosis.morphology",),
        f"{IARC}: morphology/behaviour",
        _behaviour_in(0, 1),
    ),
    Rule(
        "MORPH-METASTATIC",
        ERROR,
        _("The morphology has a metastatic behaviour (/6 or /9): code the primary tumour with /3."),
        ("diagnosis.morphology",),
        f"{IARC}: morphology/behaviour",
        _behaviour_in(6, 9),
    ),
    Rule(
        "MORPH-INSITU-HISTOLOGY",
        ERROR,
        _("This histology cannot be in situ (/2)."),
        ("diagnosis.morphology",),
        f"{IARC}: histology/behaviour",
        _in_situ_histology,
    ),
    Rule(
        "SITE-INSITU",
        WARNING,
        _("An in situ tumour (/2) is unlikely at this site (bone, bone marrow and blood, nerves, soft tissue or CNS)."),
        ("diagnosis.morphology", "diagnosis.topography"),
        f"{IARC}: behaviour/site",
        _in_situ_site,
    ),
]


# --- Sex ----------------------------------------------------------------------------------------


def _sex_site(ctx: Context) -> pd.Series:
    sex, site = ctx.choice("sex"), _site(ctx)
    return ((sex == "male") & codes_in(site, (51, 58))) | ((sex == "female") & codes_in(site, (60, 63)))


# Only combinations known not to occur: seminoma 9061-9063 in a female (the ovarian counterpart is
# dysgerminoma 9060); endometrial stromal sarcoma 8930-8931 and struma ovarii 9090-9091 in a male.
FEMALE_ONLY_HISTOLOGIES = ((8930, 8931), (9090, 9091))
MALE_ONLY_HISTOLOGIES = ((9061, 9063),)


def _sex_histology(ctx: Context) -> pd.Series:
    sex, histology = ctx.choice("sex"), ctx.morphology()[0]
    return ((sex == "male") & codes_in(histology, *FEMALE_ONLY_HISTOLOGIES)) | (
        (sex == "female") & codes_in(histology, *MALE_ONLY_HISTOLOGIES)
    )


SEX_RULES = [
    Rule(
        "SEX-SITE",
        ERROR,
        _("The site is not possible for the patient's sex."),
        ("diagnosis.topography", "registration.sex"),
        f"{IARC}: sex/site",
        _sex_site,
    ),
    Rule(
        "SEX-HISTOLOGY",
        WARNING,
        _("The histology is not expected for the patient's sex."),
        ("diagnosis.morphology", "registration.sex"),
        f"{IARC}: sex/histology",
        _sex_histology,
    ),
]


# --- Site and histology -----------------------------------------------------------------------


def _histology_off_site(histologies: Codes, sites: tuple[str, ...]) -> Check:
    """A check failing where the histology is one of `histologies` and the topography is at none of
    `sites` (a three-character category "C34" or a subsite "C38.4")."""

    def check(ctx: Context) -> pd.Series:
        topography = ctx.cached("topography", lambda: ctx.cases["topography"].astype("string"))
        category = ctx.cached("site_category", lambda: site_parts(topography))
        expected = any_of(*(mask((category if len(s) == 3 else topography) == s) for s in sites))
        return codes_in(ctx.morphology()[0], *histologies) & topography.notna() & ~expected

    return check


def _carcinoma_off_site(ctx: Context) -> pd.Series:
    histology, behaviour = ctx.morphology()
    carcinoma = codes_in(histology, CARCINOMA) & codes_in(behaviour, 2, 3)
    return carcinoma & codes_in(_site(ctx), (40, 42), 47, 49, (70, 72), 77)


# The families of IARC TR 42 (code SITE-HISTOLOGY-<family>): histologies, and the sites where expected.
SITE_FAMILIES: list[tuple[str, Promise, Codes, tuple[str, ...]]] = [
    ("RB", _("Retinoblastoma (9510-9514) is expected in the eye (C69)."), ((9510, 9514),), ("C69",)),
    ("HB", _("Hepatoblastoma (8970) is expected in the liver (C22)."), (8970,), ("C22",)),
    ("PB", _("Pancreatoblastoma (8971) is expected in the pancreas (C25)."), (8971,), ("C25",)),
    ("ACC", _("Adrenocortical carcinoma (8370-8375) is expected in the adrenal (C74)."), ((8370, 8375),), ("C74",)),
    ("THYROID", _("This thyroid carcinoma (8330-8350) is expected in the thyroid (C73)."), ((8330, 8350),), ("C73",)),
    (
        "PPB",
        _("Pleuropulmonary blastoma (8973) is expected in the lung, pleura or thorax."),
        (8973,),
        ("C34", "C38.4", "C39", "C48", "C76", "C80"),
    ),
]
SITE_FIELDS = ("diagnosis.topography", "diagnosis.morphology")

SITE_HISTOLOGY_RULES = [
    *(
        Rule(
            f"SITE-HISTOLOGY-{family}",
            WARNING,
            message,
            SITE_FIELDS,
            f"{IARC}: site/histology",
            _histology_off_site(histologies, sites),
        )
        for family, message, histologies, sites in SITE_FAMILIES
    ),
    Rule(
        "SITE-HISTOLOGY-CARCINOMA",
        WARNING,
        _("A carcinoma is unlikely in bone, blood, nerves, soft tissue, CNS or lymph nodes: check the primary site."),
        SITE_FIELDS,
        f"{IARC}: site/histology",
        _carcinoma_off_site,
    ),
]


def _unlikely_for_age(ctx: Context) -> pd.Series:
    """The IARC unlikely age/site/histology combinations under 15."""
    histology, site, age = ctx.morphology()[0], _site(ctx), age_at_diagnosis(ctx)
    carcinoma = codes_in(histology, CARCINOMA)

    def aged(low: int, high: int) -> pd.Series:
        return codes_in(age, (low, high))

    return any_of(
        carcinoma & codes_in(site, 73, 11) & aged(0, 5),
        ((carcinoma & codes_in(site, 44)) | codes_in(histology, 8010)) & aged(0, 4),
        carcinoma & codes_in(site, 56, 62) & aged(0, 4),
        codes_in(histology, (9050, 9055)) & aged(0, 14),
        carcinoma & codes_in(site, 64, 22) & aged(0, 8),
    )


# A non-microscopic basis (0 death certificate, 1 clinical, 2 clinical investigation, 4 tumour
# markers) is accepted for: 8000-8005 (unspecified), 8720-8790 at C44 or C69 (melanoma of skin or
# eye), 9500 (neuroblastoma), 9510-9514 (retinoblastoma), 9530-9539 (meningiomas), 9590-9999
# (haematological), 9380-9384 and 9440 (gliomas, on imaging) after IARC TR 42; and, for the
# markers of paediatric tumours, 8170 at C22 (hepatocellular carcinoma, AFP), 8970 (hepatoblastoma,
# AFP) and 9100 (choriocarcinoma, hCG).
NON_MICROSCOPIC_BASES = ("0", "1", "2", "4")
NON_MICROSCOPIC_HISTOLOGIES = ((8000, 8005), 9500, (9510, 9514), (9530, 9539), (9590, 9999), (9380, 9384), 9440)


def _basis_histology(ctx: Context) -> pd.Series:
    histology, site = ctx.morphology()[0], _site(ctx)
    accepted = any_of(
        codes_in(histology, *NON_MICROSCOPIC_HISTOLOGIES),
        codes_in(histology, (8720, 8790)) & codes_in(site, 44, 69),
        codes_in(histology, 8170) & codes_in(site, 22),
        codes_in(histology, 8970, 9100),
    )
    non_microscopic = ctx.cases["basis_of_diagnosis"].isin(NON_MICROSCOPIC_BASES)
    return non_microscopic & histology.notna() & ~accepted


# ICD-O-3 terms that carry their grade (rule G).
IMPLIED_GRADES = {8020: 4, 8021: 4, 8331: 1, 8332: 2, 9082: 4, 9083: 2, 9511: 1, 9512: 4}


def _grade(ctx: Context) -> pd.Series:
    return ctx.cached(
        "grade", lambda: pd.to_numeric(ctx.cases["grade"].astype("string"), errors="coerce").astype("Int64")
    )


def _grade_histology(ctx: Context) -> pd.Series:
    return codes_in(_grade(ctx), (1, 4)) & codes_in(ctx.morphology()[0], (9590, 9999))


def _grade_implied(ctx: Context) -> pd.Series:
    grade = _grade(ctx)
    implied = ctx.morphology()[0].map(IMPLIED_GRADES).astype("Int64")
    return mask(codes_in(grade, (1, 4)) & (grade != implied))


TUMOUR_RULES = [
    Rule(
        "AGE-SITE-HISTOLOGY",
        QUERY,
        _(
            "This site and histology are unlikely at this age in children. It happens in very rare "
            "tumours: confirm it with a reason if it is correct."
        ),
        ("diagnosis.morphology", "diagnosis.topography", "diagnosis.diagnosis_date", "registration.date_of_birth"),
        f"{IARC}: age/site/histology",
        _unlikely_for_age,
    ),
    Rule(
        "BASIS-HISTOLOGY",
        QUERY,
        _("A specific histology with a non-microscopic basis of diagnosis: check the basis of diagnosis."),
        ("diagnosis.basis_of_diagnosis", "diagnosis.morphology", "diagnosis.topography"),
        f"{IARC}: basis of diagnosis/histology",
        _basis_histology,
    ),
    Rule(
        "GRADE-HISTOLOGY",
        ERROR,
        _("Grades 1-4 do not apply to lymphomas and leukaemias (9590 and above)."),
        ("diagnosis.grade", "diagnosis.morphology"),
        f"{IARC}: grade/histology",
        _grade_histology,
    ),
    Rule(
        "GRADE-IMPLIED",
        WARNING,
        _("The grade differs from the one the morphology term implies."),
        ("diagnosis.grade", "diagnosis.morphology"),
        "ICD-O-3 rule G (grade implied by the term)",
        _grade_implied,
    ),
]

ONCOLOGY_RULES: list[Rule] = [*DATE_RULES, *MORPHOLOGY_RULES, *SEX_RULES, *SITE_HISTOLOGY_RULES, *TUMOUR_RULES]
