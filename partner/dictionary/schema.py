"""The shape of the dictionary's definition files, checked on load (pydantic).

One version of the dictionary is a folder:

    dictionary.yaml      version number, release date, description
    iccc3.yaml           ICCC-3 (IARC 2017) groups, extended groups and classification rules
    entities.yaml        the VRT entities, in order of precedence
    forms/*.yaml         the common dataset, one form a file
    modules/*.yaml       tumour modules, forms shown for the entities they name

Models here check each file on its own; `loader.check_dictionary` checks what spans files.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from partner.lib.expressions import Condition, ExpressionError
from partner.lib.icdo import CodeError, histology_set, topography_set

LANGUAGES = ("en", "it", "fr", "de", "pl")

#: The 16 common data elements of the EU Rare Disease Platform (JRC, 2017), by their numbers.
EU_CDE: dict[str, str] = {
    "1.1": "Pseudonym",
    "2.1": "Date of birth",
    "2.2": "Sex",
    "3.1": "Patient's status",
    "3.2": "Date of death",
    "4.1": "First contact with specialised centre",
    "5.1": "Age at onset",
    "5.2": "Age at diagnosis",
    "6.1": "Diagnosis of the rare disease (ORPHA code)",
    "6.2": "Genetic diagnosis",
    "6.3": "Undiagnosed case",
    "7.1": "Agreement to be contacted for research",
    "7.2": "Consent to the reuse of data",
    "7.3": "Biological sample",
    "7.4": "Link to a biobank",
    "8.1": "Classification of functioning and disability",
}

Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
EntityCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{1,23}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

FieldType = Literal[
    "text",  # free text, max_length applies
    "integer",
    "decimal",
    "date",
    "boolean",  # yes / no
    "choice",  # one of `choices`
    "multichoice",  # any of `choices`
    "morphology",  # ICD-O-3 morphology with behaviour, 8370/3
    "topography",  # ICD-O-3 topography, C74.0
    "code",  # a code of an external system named by `code_system` (ORPHA, HGNC, HPO, ...)
]
CodeSystem = Literal["ORPHA", "HGNC", "HGVS", "HPO", "ICF", "ISO3166", "UCUM"]
#: How much of a date may be known: the day, or only the month ("2019-05"), or only the year ("2019").
Precision = Literal["day", "month", "year"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Labels(Strict):
    """One text in each of the five languages; none may be left out."""

    en: Text
    it: Text
    fr: Text
    de: Text
    pl: Text

    def get(self, language: str) -> str:
        return str(getattr(self, language[:2], None) or self.en)


class Release(Strict):
    version: Annotated[int, Field(ge=1)]
    released: dt.date
    title: Labels
    description: Text


# --- VRT entities -----------------------------------------------------------------------------


class MatchRule(Strict):
    """Codes that make a tumour this entity: every key given must hold."""

    morphology: str | None = None  # histology codes and ranges, "8370-8375, 8158"
    behaviour: list[Literal[0, 1, 2, 3, 6, 9]] = [3]
    topography: str | None = None  # "C74.0", "C18-C20"; absent means any site
    topography_exclude: str | None = None
    iccc_extended: list[Annotated[str, StringConstraints(pattern=r"^\d{3}$")]] | None = None

    @field_validator("morphology")
    @classmethod
    def _histology(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                histology_set(value)
            except CodeError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("topography", "topography_exclude")
    @classmethod
    def _topography(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                topography_set(value)
            except CodeError as exc:
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _something(self) -> MatchRule:
        if self.morphology is None and self.iccc_extended is None:
            raise ValueError("a match rule needs a morphology or an iccc_extended group")
        return self


class Entity(Strict):
    code: EntityCode
    names: Labels
    description: Labels | None = None
    iccc_extended: Annotated[str, StringConstraints(pattern=r"^\d{3}$")]
    orpha: Annotated[int, Field(gt=0)] | None = None
    incidence_vrt: bool
    expert_scope: bool
    panel: Code  # the expert panel that answers consultations on this entity
    match: Annotated[list[MatchRule], Field(min_length=1)]


class EntityFile(Strict):
    entities: Annotated[list[Entity], Field(min_length=1)]


# --- Forms and fields ---------------------------------------------------------------------------


class Choice(Strict):
    code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.+-]{1,40}$")]
    labels: Labels
    concepts: dict[str, str] = {}  # codes of this value in other systems: snomed, ncit, hl7, ...


class Mappings(Strict):
    eu_cde: Literal[tuple(EU_CDE)] | None = None  # type: ignore[valid-type]
    fhir: Text | None = None  # FHIR R4 / mCODE STU4 element, "Condition.bodySite"
    phenopackets: Text | None = None  # GA4GH Phenopackets v2 element
    redcap: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,99}$")] | None = None


_CONDITION_FIELDS = ("show_if", "required_if")


class FieldDef(Strict):
    code: Code
    labels: Labels
    # Only a draft converted from another system says so (names, e-mail, a full date of birth);
    # no form or module holds identifying data, so a field marked this way never passes.
    identifying: bool = False
    help: Labels | None = None
    section: Labels | None = None  # a heading shown before this field
    type: FieldType
    unit: Text | None = None  # UCUM
    min: float | None = None
    max: float | None = None
    max_length: Annotated[int, Field(gt=0)] | None = None
    decimals: Annotated[int, Field(ge=0, le=6)] | None = None
    code_system: CodeSystem | None = None
    choices: list[Choice] = []
    required: bool = False
    required_if: str | None = None
    show_if: str | None = None
    computed: Literal["age_at_diagnosis_years", "age_at_onset_years", "pseudonym"] | None = None
    # A date field lists the precisions it accepts; a partial date is an interval (partner.lib.dates).
    precision: list[Precision] = ["day"]
    mappings: Mappings = Mappings()

    @field_validator(*_CONDITION_FIELDS)
    @classmethod
    def _condition(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                Condition.parse(value)
            except ExpressionError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("identifying")
    @classmethod
    def _not_identifying(cls, value: bool) -> bool:
        if value:
            raise ValueError(
                "the field is marked identifying: no form or tumour module holds identifying data "
                "(a child's identity lives only as the pseudonym and the linkage encoding); remove the field"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> FieldDef:
        has_choices = self.type in ("choice", "multichoice")
        if has_choices and not self.choices:
            raise ValueError(f"a {self.type} field needs choices")
        if self.choices and not has_choices:
            raise ValueError(f"a {self.type} field cannot have choices")
        codes = [c.code for c in self.choices]
        if len(codes) != len(set(codes)):
            raise ValueError("choice codes repeat")
        if (self.type == "code") != (self.code_system is not None):
            raise ValueError("code_system is required for a code field and only there")
        if (self.min is not None or self.max is not None) and self.type not in ("integer", "decimal"):
            raise ValueError("min and max apply to integer and decimal fields only")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is greater than max")
        if self.unit and self.type not in ("integer", "decimal"):
            raise ValueError("a unit applies to integer and decimal fields only")
        if self.required and self.required_if:
            raise ValueError("a field is either required or required_if, not both")
        if self.precision != ["day"]:
            if self.type != "date":
                raise ValueError("precision applies to date fields only")
            if sorted(self.precision) not in (["day", "month"], ["day", "month", "year"]):
                raise ValueError("precision is [day], [day, month] or [day, month, year]")
        return self

    @property
    def partial_dates(self) -> bool:
        """Whether a date with a month or a year only (ISO 8601 reduced precision) is accepted."""
        return self.type == "date" and self.precision != ["day"]

    def conditions(self) -> dict[str, Condition]:
        return {key: Condition.parse(text) for key in _CONDITION_FIELDS if (text := getattr(self, key)) is not None}


class FormDef(Strict):
    code: Code
    labels: Labels
    help: Labels | None = None
    order: int
    repeating: bool = False
    entities: list[EntityCode] = []  # a tumour module names the entities it is shown for
    fields: Annotated[list[FieldDef], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique(self) -> FormDef:
        seen: set[str] = set()
        for f in self.fields:
            if f.code in seen:
                raise ValueError(f"field code {f.code!r} appears twice")
            seen.add(f.code)
        return self

    @property
    def is_module(self) -> bool:
        return bool(self.entities)


# --- ICCC-3 -----------------------------------------------------------------------------------

Numeral = Literal["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]


class IcccGroup(Strict):
    numeral: Numeral
    name: Text


class IcccSubgroup(Strict):
    code: Annotated[str, StringConstraints(pattern=r"^(I|II|III|IV|V|VI|VII|VIII|IX|X|XI|XII)[a-f]$")]
    name: Text


class IcccExtended(Strict):
    code: Annotated[str, StringConstraints(pattern=r"^\d{3}$")]
    subgroup: Annotated[str, StringConstraints(pattern=r"^(I|II|III|IV|V|VI|VII|VIII|IX|X|XI|XII)[a-f]$")]
    name: Text


class IcccRule(Strict):
    """The first rule, in file order, that a tumour satisfies gives its extended group."""

    extended: Annotated[str, StringConstraints(pattern=r"^\d{3}$")]
    sites: str = "C00.0-C80.9"
    sites_exclude: str | None = None
    histology: str
    histology_exclude: str | None = None
    behaviour: list[Literal[0, 1, 2, 3, 6, 9]]

    @field_validator("histology", "histology_exclude")
    @classmethod
    def _histology(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                histology_set(value)
            except CodeError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("sites", "sites_exclude")
    @classmethod
    def _sites(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                topography_set(value)
            except CodeError as exc:
                raise ValueError(str(exc)) from None
        return value


class IcccFile(Strict):
    source: Text
    groups: Annotated[list[IcccGroup], Field(min_length=12, max_length=12)]
    subgroups: list[IcccSubgroup]
    extended: list[IcccExtended]
    rules: list[IcccRule]
