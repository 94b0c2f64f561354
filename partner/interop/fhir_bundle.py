"""What the FHIR export and import are built on.

`BundleWriter` holds the case being written: the ids and references of its resources, derived from
the case, and which values went to a standard element and which record each resource stands for.
`BundleReader` holds the bundle being read: its resources by reference, and the form records filled
from them, each value with the resource and element it came from.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from fhir.resources.R4B.bundle import BundleEntry
from fhir.resources.R4B.resource import Resource

from partner.cases.models import TumourCase
from partner.cases.services import current_forms
from partner.dictionary.loader import Dictionary

from .fhir_vocabulary import CONCEPT_SYSTEMS, concept, field_def, system_of

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:partner:fhir")


class BundleWriter:
    def __init__(self, case: TumourCase, dictionary: Dictionary):
        self.case = case
        self.dictionary = dictionary
        self.forms = current_forms(dictionary, case)
        self.entries: list[BundleEntry] = []
        #: (form, instance, field) of the values written to a standard element; the rest go as field Observations.
        self.written: set[tuple[str, int, str]] = set()
        #: (form, instance) -> the reference of the resource a record of a repeating form is.
        self.anchors: dict[tuple[str, int], str] = {}

    def uuid(self, *key: object) -> str:
        return str(uuid.uuid5(_NAMESPACE, "/".join(str(k) for k in (self.case.pk, *key))))

    def ref(self, *key: object) -> dict[str, str]:
        return {"reference": f"urn:uuid:{self.uuid(*key)}"}

    def add(self, resource: Resource) -> None:
        self.entries.append(BundleEntry(fullUrl=f"urn:uuid:{resource.id}", resource=resource))

    def wrote(self, form: str, instance: int, *fields: str) -> None:
        self.written.update((form, instance, f) for f in fields)

    def concept(self, form: str, field: str, value: str) -> dict[str, Any]:
        return concept(self.dictionary, form, field, value)


class BundleError(ValueError):
    """The bundle is not valid FHIR, or not one the registry can take as a case."""


def codings_of(concept: dict[str, Any] | None) -> list[dict[str, Any]]:
    return (concept or {}).get("coding", [])


def code_of(concept: dict[str, Any] | None, system: str) -> str | None:
    return next((c.get("code") for c in codings_of(concept) if c.get("system") == system), None)


def extension_of(element: dict[str, Any], url: str) -> dict[str, Any]:
    return next((e for e in element.get("extension", []) if e.get("url") == url), {})


def day_of(value: Any) -> Any:
    """A FHIR date or dateTime as the registry's date: the day of a dateTime; anything else (a partial
    date, a malformed one) goes on whole for validation to report, never cut to look like a date."""
    if isinstance(value, str) and _DAY_OR_TIME.fullmatch(value):
        return value[:10]
    return value


_DAY_OR_TIME = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?")


def profiles_of(resource: dict[str, Any]) -> list[str]:
    return resource.get("meta", {}).get("profile", [])


@dataclass
class Record:
    """One form record read from the bundle: its values, and where in the bundle each came from."""

    form: str
    source: str
    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)


class BundleReader:
    def __init__(self, data: dict[str, Any], dictionary: Dictionary):
        self.data = data
        self.dictionary = dictionary
        self.labels: dict[int, str] = {}
        self.resources: list[dict[str, Any]] = []
        self.by_reference: dict[str, dict[str, Any]] = {}
        for number, entry in enumerate(data.get("entry", [])):
            resource = entry.get("resource")
            if resource is None:
                continue
            self.resources.append(resource)
            typed = f"{resource['resourceType']}/{resource['id']}" if resource.get("id") else None
            self.labels[id(resource)] = entry.get("fullUrl") or typed or f"entry[{number}]"
            if entry.get("fullUrl"):
                self.by_reference[entry["fullUrl"]] = resource
            if typed:
                self.by_reference[typed] = resource
        self.single: dict[str, Record] = {}
        self.repeated: dict[str, list[Record]] = {}
        #: id() of a resource that is a record of a repeating form (a line, an event) -> the record.
        self.record_of: dict[int, Record] = {}
        self.field_observations: list[dict[str, Any]] = []
        self.assessments: list[Record] = []
        #: What was left out, or taken otherwise than given, for the report: (resource, element, value, why, kept).
        self.left_out: list[tuple[dict[str, Any], str, str, str, bool]] = []
        #: id() of the resources read as part of another (an administration with its request, the
        #: Observation of a multiple choice's second answer).
        self.covered: set[int] = set()
        #: (id() of a record, field) whose value a field Observation gave.
        self.strict: set[tuple[int, str]] = set()

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["resourceType"] == kind]

    def where(self, resource: dict[str, Any], element: str) -> str:
        return f"{resource['resourceType']} {self.labels[id(resource)]}: {element}"

    def leave(self, resource: dict[str, Any], element: str, why: str, value: Any = "", *, kept: bool = False) -> None:
        """Say, for the report, that an element of the bundle was not taken (or, `kept`, taken otherwise), and why."""
        self.left_out.append((resource, element, "" if value is None else str(value), why, kept))

    def expect(self, target: Record | str, name: str, where: str) -> None:
        """Where a field's value would have come from, had the bundle given it: an error names that element."""
        record = target if isinstance(target, Record) else self.single.setdefault(target, Record(target, where))
        record.sources.setdefault(name, where)

    def resolve(self, references: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
        found = (self.by_reference.get(r.get("reference", "")) for r in references or [])
        return [r for r in found if r is not None]

    def new_record(self, form: str, resource: dict[str, Any], element: str) -> Record:
        record = Record(form, self.where(resource, element))
        self.repeated.setdefault(form, []).append(record)
        self.record_of[id(resource)] = record
        return record

    def put(
        self, target: Record | str, name: str, value: Any, where: str, *, strict: bool = False, keep: bool = False
    ) -> None:
        """Set a field of a record (a single form's by its code); a value of None leaves it as it is.

        A standard element read later replaces one read earlier (a sender may give a clinical and a
        pathological stage; `keep` keeps the first instead); a field Observation (`strict`) must agree
        with what the bundle gave the field elsewhere.
        """
        if value is None:
            return
        record = target if isinstance(target, Record) else self.single.setdefault(target, Record(target, where))
        if name in record.values:
            if keep:
                return
            if strict and record.values[name] != value:
                raise BundleError(
                    _("%(where)s: %(form)s.%(field)s is given as %(value)r here and as %(other)r in %(source)s")
                    % {
                        "where": where,
                        "form": record.form,
                        "field": name,
                        "value": value,
                        "other": record.values[name],
                        "source": record.sources.get(name, record.source),
                    }
                )
        record.values[name] = value
        record.sources[name] = where
        if strict:
            self.strict.add((id(record), name))

    def append(self, record: Record, name: str, value: Any, where: str) -> None:
        """One value of a multiple choice."""
        values = record.values.setdefault(name, [])
        record.sources.setdefault(name, where)
        if value not in values:
            values.append(value)

    def choice(self, concept: dict[str, Any] | None, form: str, field: str) -> str | None:
        """The dictionary's code for a coded value: the registry's coding, else a standard code it lists."""
        own = code_of(concept, system_of(form, field))
        if own is not None:
            return own
        for coding in codings_of(concept):
            for choice in field_def(self.dictionary, form, field).choices:
                if any(
                    CONCEPT_SYSTEMS.get(k) == coding.get("system") and v == coding.get("code")
                    for k, v in choice.concepts.items()
                ):
                    return choice.code
        return None
