"""A FHIR R4 Bundle (mCODE STU4) read back into the forms of a case, and imported as a new case.

The reading mirrors fhir_export: a value coded in the registry's own system comes back as it left;
from other senders, the standard codes the dictionary lists for a choice (SNOMED CT, ATC) are
recognised, and what cannot be read is left out for the data manager to complete.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from partner.accounts.models import Centre
from partner.cases.models import Status, TumourCase
from partner.cases.services import create_case
from partner.dictionary.loader import Dictionary, get_dictionary

from .fhir_export import (
    ASSERTED_DATE_EXT,
    CASE_IDENTIFIER,
    CONCEPT_SYSTEMS,
    DICTIONARY,
    DISEASE_STATUS_CODE,
    DISEASE_STATUS_PROFILE,
    DOSE_EXT,
    HISTOLOGY_EXT,
    ICDO3,
    INTENT_EXT,
    LATERALITY_EXT,
    LOINC,
    MEDICATION_FIELDS,
    MODALITY_EXT,
    MODALITY_TECHNIQUE_EXT,
    PRIMARY_PROFILE,
    PSEUDONYM,
    RADIOTHERAPY_CATEGORY,
    RADIOTHERAPY_PROFILE,
    RT_MODALITY,
    SNOMED,
    STAGE_CODES,
    SURGERY_CATEGORY,
    SURGERY_PROFILE,
    TNM_CODES,
    TNM_SYSTEMS,
    field_def,
    system_of,
)

#: Bundle.type, a required binding in R4 that the models do not check.
BUNDLE_TYPES = {
    *("document", "message", "transaction", "transaction-response", "batch", "batch-response"),
    *("history", "searchset", "collection"),
}
_STAGE_BASIS = {code: basis for basis, code in STAGE_CODES.items()}
_TNM_CATEGORY = {
    code: (field, basis) for field, (_profile, codes) in TNM_CODES.items() for basis, code in codes.items()
}
_AGENT_FIELDS = ("chemo_agents", "targeted_agent")


class BundleError(ValueError):
    """The bundle is not valid FHIR, or not one the registry can take as a case."""


def parse_bundle(bundle: Any) -> dict[str, Any]:
    """The bundle validated as FHIR R4 and normalised; a `BundleError` names the first problem."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise BundleError(_("not a FHIR Bundle: a JSON object with resourceType Bundle is expected"))
    if bundle.get("type") not in BUNDLE_TYPES:
        raise BundleError(_("Bundle.type %(type)r is not a FHIR bundle type") % {"type": bundle.get("type")})
    for number, entry in enumerate(bundle.get("entry") or []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if resource is None:
            continue  # the models report what else is wrong with the entry
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        try:
            get_fhir_model_class(str(kind))
        except ValueError:
            raise BundleError(
                _("entry[%(n)d].resource: %(kind)r is not a FHIR R4 resource type") % {"n": number, "kind": kind}
            ) from None
    try:
        parsed = Bundle.model_validate(bundle)
    except ValidationError as exc:
        raise BundleError(_describe(bundle, exc)) from None
    return parsed.model_dump(mode="json", exclude_none=True)


def _describe(bundle: dict[str, Any], exc: ValidationError) -> str:
    error = exc.errors()[0]
    loc = error["loc"]
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
    if len(loc) > 2 and loc[0] == "entry" and isinstance(loc[1], int) and loc[2] == "resource":
        resource = bundle["entry"][loc[1]]["resource"]
        path += f" ({resource.get('resourceType')})" if isinstance(resource, dict) else ""
    message = str(error["msg"]).split("\n")[0]
    return _("not valid FHIR R4: %(path)s: %(message)s") % {"path": path or "Bundle", "message": message}


def bundle_to_forms(
    bundle: dict[str, Any], dictionary: Dictionary | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The case fields (pseudonym, external_id) and the form values a bundle gives.

    The forms have the shape `create_case(forms=...)` takes. A Patient without the registry's
    pseudonym identifier is refused: the registry never receives names, only the pseudonym derived
    from them at the centre.
    """
    data = parse_bundle(bundle)
    return _Reader(data, dictionary or get_dictionary()).read()


def import_bundle(
    bundle: dict[str, Any], *, centre: Centre, user: Any = None, status: str = Status.DRAFT
) -> TumourCase:
    """Register the bundle's case at `centre`; a second import of the same case there is refused.

    `CaseInvalid` from `create_case` propagates: its errors name form, row and field.
    """
    dictionary = get_dictionary()
    case_fields, forms = bundle_to_forms(bundle, dictionary)
    external_id = case_fields["external_id"]
    if len(external_id) > 64:
        raise BundleError(_("the case's identifier is longer than 64 characters"))
    with transaction.atomic():
        if external_id and TumourCase.objects.filter(centre=centre, external_id=external_id).exists():
            raise BundleError(
                _("%(centre)s already has a case with the identifier %(id)s: this bundle was imported before")
                % {"centre": centre.code, "id": external_id}
            )
        return create_case(
            dictionary=dictionary,
            centre=centre,
            pseudonym=case_fields["pseudonym"],
            forms=forms,
            status=status,
            external_id=external_id,
            user=user,
        )


def _codings(concept: dict[str, Any] | None) -> list[dict[str, Any]]:
    return (concept or {}).get("coding", [])


def _code(concept: dict[str, Any] | None, system: str) -> str | None:
    return next((c.get("code") for c in _codings(concept) if c.get("system") == system), None)


def _extension(element: dict[str, Any], url: str) -> dict[str, Any]:
    return next((e for e in element.get("extension", []) if e.get("url") == url), {})


def _day(value: Any) -> Any:
    """A FHIR date or dateTime as the registry's date; a partial date goes on for validation to report."""
    return value[:10] if isinstance(value, str) and len(value) >= 10 else value


def _profiles(resource: dict[str, Any]) -> list[str]:
    return resource.get("meta", {}).get("profile", [])


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None and v != []}


class _Reader:
    def __init__(self, data: dict[str, Any], dictionary: Dictionary):
        self.data = data
        self.dictionary = dictionary
        entries = [e for e in data.get("entry", []) if "resource" in e]
        self.resources = [e["resource"] for e in entries]
        self.by_reference = {e["fullUrl"]: e["resource"] for e in entries if e.get("fullUrl")}
        self.by_reference |= {f"{r['resourceType']}/{r['id']}": r for r in self.resources if r.get("id")}

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["resourceType"] == kind]

    def choice(self, concept: dict[str, Any] | None, form: str, field: str) -> str | None:
        """The dictionary's code for a coded value: the registry's coding, else a standard code it lists."""
        own = _code(concept, system_of(form, field))
        if own is not None:
            return own
        for coding in _codings(concept):
            for choice in field_def(self.dictionary, form, field).choices:
                if any(
                    CONCEPT_SYSTEMS.get(k) == coding.get("system") and v == coding.get("code")
                    for k, v in choice.concepts.items()
                ):
                    return choice.code
        return None

    def read(self) -> tuple[dict[str, Any], dict[str, Any]]:
        patients = self.of_type("Patient")
        if len(patients) != 1:
            raise BundleError(_("a case's bundle holds one Patient, this one holds %(n)d") % {"n": len(patients)})
        patient = patients[0]
        pseudonym = next((i.get("value") for i in patient.get("identifier", []) if i.get("system") == PSEUDONYM), None)
        if not pseudonym:
            raise BundleError(
                _(
                    "the Patient has no pseudonym (an identifier with system %(system)s): the registry never "
                    "receives names, only the pseudonym derived from them at the centre"
                )
                % {"system": PSEUDONYM}
            )
        if len(pseudonym) > 64:
            raise BundleError(_("the pseudonym is longer than 64 characters"))
        condition = self.primary_condition()
        identifiers = sorted(condition.get("identifier", []), key=lambda i: i.get("system") != CASE_IDENTIFIER)
        identifiers += [i for i in patient.get("identifier", []) if i.get("system") != PSEUDONYM]
        external_id = next((i["value"] for i in identifiers if i.get("value")), self.data.get("id", ""))
        forms: dict[str, Any] = {"registration": self.registration(patient), "diagnosis": self.diagnosis(condition)}
        self.observations(forms)
        forms["treatment"] = self.treatment()
        self.vital_status(patient, forms)
        return {"pseudonym": pseudonym, "external_id": external_id}, {k: v for k, v in forms.items() if v}

    def primary_condition(self) -> dict[str, Any]:
        conditions = self.of_type("Condition")
        primary = [c for c in conditions if PRIMARY_PROFILE in _profiles(c)] or [
            c for c in conditions if _extension(c, HISTOLOGY_EXT) or "/" in (_code(c.get("code"), ICDO3) or "")
        ]
        if not primary:
            raise BundleError(_("the bundle holds no primary cancer Condition (ICD-O-3 morphology and topography)"))
        if len(primary) > 1:
            raise BundleError(
                _("the bundle holds %(n)d primary cancer conditions: one case is one tumour") % {"n": len(primary)}
            )
        return primary[0]

    def registration(self, patient: dict[str, Any]) -> dict[str, Any]:
        gender = patient.get("gender")
        sex = next(
            (
                c.code
                for c in field_def(self.dictionary, "registration", "sex").choices
                if c.concepts.get("hl7", c.code) == gender
            ),
            gender,
        )
        country = next((a.get("country") for a in patient.get("address", []) if a.get("country")), None)
        return _compact({"date_of_birth": patient.get("birthDate"), "sex": sex, "country_of_residence": country})

    def diagnosis(self, condition: dict[str, Any]) -> dict[str, Any]:
        asserted = _extension(condition, ASSERTED_DATE_EXT).get("valueDateTime")
        histology = _code(_extension(condition, HISTOLOGY_EXT).get("valueCodeableConcept"), ICDO3)
        coded = _code(condition.get("code"), ICDO3)
        site = (condition.get("bodySite") or [{}])[0]
        evidence = [c for e in condition.get("evidence", []) for c in e.get("code", [])]
        laterality = _extension(site, LATERALITY_EXT).get("valueCodeableConcept")
        return _compact(
            {
                "onset_date": _day(condition.get("onsetDateTime")),
                "diagnosis_date": _day(asserted or condition.get("recordedDate") or condition.get("onsetDateTime")),
                "morphology": histology or coded,
                "topography": _code(site, ICDO3),
                "laterality": self.choice(laterality, "diagnosis", "laterality") if laterality else None,
                "basis_of_diagnosis": self.choice(evidence[0], "diagnosis", "basis_of_diagnosis") if evidence else None,
            }
        )

    def observations(self, forms: dict[str, Any]) -> None:
        diagnosis, follow_up, status = forms["diagnosis"], [], forms.setdefault("status", {})
        last_status = system_of("status", "last_disease_status")
        for observation in self.of_type("Observation"):
            loinc = _code(observation.get("code"), LOINC)
            value = observation.get("valueCodeableConcept")
            if loinc == DISEASE_STATUS_CODE or DISEASE_STATUS_PROFILE in _profiles(observation):
                if _code(value, last_status) is not None:
                    status["last_disease_status"] = _code(value, last_status)
                    continue
                disease_status = self.choice(value, "follow_up", "disease_status")
                if disease_status is not None:  # a status the dictionary has no code for is left out
                    when = _day(observation.get("effectiveDateTime"))
                    follow_up.append(
                        _compact(
                            {"event_type": "response_assessment", "event_date": when, "disease_status": disease_status}
                        )
                    )
            elif loinc in _STAGE_BASIS:
                system = self.choice(observation.get("method"), "diagnosis", "stage_system")
                group = (value or {}).get("text") or next((c.get("code") for c in _codings(value)), None)
                diagnosis.update(_compact({"stage_system": system, "stage_group": group}))
                if system in TNM_SYSTEMS and _STAGE_BASIS[loinc]:
                    diagnosis["tnm_basis"] = _STAGE_BASIS[loinc]
            elif loinc in _TNM_CATEGORY:
                field, basis = _TNM_CATEGORY[loinc]
                category = self.choice(value, "diagnosis", field) or next(
                    (c.get("code") for c in _codings(value)), None
                )
                diagnosis.update(_compact({field: category}))
                if basis:
                    diagnosis.setdefault("tnm_basis", basis)
            elif _code(observation.get("code"), DICTIONARY) == "status.patient_status":
                cause = next(
                    (
                        c.get("valueCodeableConcept")
                        for c in observation.get("component", [])
                        if _code(c.get("code"), DICTIONARY) == "status.cause_of_death"
                    ),
                    None,
                )
                status.update(
                    _compact(
                        {
                            "patient_status": self.choice(value, "status", "patient_status"),
                            "last_contact_date": _day(observation.get("effectiveDateTime")),
                            "cause_of_death": self.choice(cause, "status", "cause_of_death") if cause else None,
                        }
                    )
                )
        if follow_up:
            forms["follow_up"] = follow_up

    def vital_status(self, patient: dict[str, Any], forms: dict[str, Any]) -> None:
        status = forms["status"]
        if "deceasedDateTime" in patient:
            status.setdefault("patient_status", "dead")
            status["date_of_death"] = _day(patient["deceasedDateTime"])
        elif "deceasedBoolean" in patient:
            status.setdefault("patient_status", "dead" if patient["deceasedBoolean"] else "alive")

    def treatment(self) -> list[dict[str, Any]]:
        lines: list[dict[str, Any]] = []
        groups: dict[Any, dict[str, Any]] = {}
        for resource in self.resources:
            if resource["resourceType"] == "Procedure":
                line = self.procedure(resource)
                if line:
                    lines.append(line)
            elif resource["resourceType"] in ("MedicationRequest", "MedicationAdministration"):
                self.medication(resource, lines, groups)
        return [_compact(line) for line in lines]

    def intent_of(self, resource: dict[str, Any]) -> dict[str, Any]:
        intent = _extension(resource, INTENT_EXT).get("valueCodeableConcept")
        return {"treatment_intent": self.choice(intent, "treatment", "treatment_intent") if intent else None}

    def procedure(self, procedure: dict[str, Any]) -> dict[str, Any] | None:
        category, profiles = procedure.get("category"), _profiles(procedure)
        kind = self.choice(category, "treatment", "line_type")
        if kind is None and (SURGERY_PROFILE in profiles or _code(category, SNOMED) == SURGERY_CATEGORY):
            kind = "surgery"
        elif kind is None and (RADIOTHERAPY_PROFILE in profiles or _code(category, SNOMED) == RADIOTHERAPY_CATEGORY):
            kind = "radiotherapy"
        if kind not in ("surgery", "radiotherapy", "other"):
            return None
        period = procedure.get("performedPeriod", {})
        line = {
            "line_type": kind,
            "treatment_start_date": _day(period.get("start") or procedure.get("performedDateTime")),
            "treatment_end_date": _day(period.get("end")),
            **self.intent_of(procedure),
        }
        if kind == "surgery":
            line["surgery_type"] = self.choice(procedure.get("code"), "treatment", "surgery_type")
            outcome = procedure.get("outcome")
            line["resection_margin"] = self.choice(outcome, "treatment", "resection_margin") if outcome else None
        elif kind == "radiotherapy":
            line.update(self.radiotherapy(procedure))
        else:
            line["other_treatment"] = procedure.get("code", {}).get("text")
        return line

    def radiotherapy(self, procedure: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        modality = _extension(_extension(procedure, MODALITY_TECHNIQUE_EXT), MODALITY_EXT).get("valueCodeableConcept")
        if modality:
            snomed = {code: technique for technique, code in RT_MODALITY.items()}
            values["rt_technique"] = self.choice(modality, "treatment", "rt_technique") or snomed.get(
                _code(modality, SNOMED) or ""
            )
        dose = _extension(procedure, DOSE_EXT)
        quantity = _extension(dose, "totalDoseDelivered").get("valueQuantity")
        if quantity and quantity.get("value") is not None:
            gy = Decimal(str(quantity["value"]))
            values["rt_total_dose"] = float(gy / 100 if quantity.get("code", quantity.get("unit")) == "cGy" else gy)
        values["rt_fractions"] = _extension(dose, "fractionsDelivered").get("valueUnsignedInt")
        volume = self.by_reference.get(_extension(dose, "volume").get("valueReference", {}).get("reference", ""), {})
        values["rt_site"] = volume.get("description")
        return values

    def medication(
        self, resource: dict[str, Any], lines: list[dict[str, Any]], groups: dict[Any, dict[str, Any]]
    ) -> None:
        medication = resource.get("medicationCodeableConcept")
        field = next((f for f in _AGENT_FIELDS if _code(medication, system_of("treatment", f)) is not None), None)
        field = field or next((f for f in _AGENT_FIELDS if self.choice(medication, "treatment", f)), None)
        agent = self.choice(medication, "treatment", field) if field else None
        category = resource.get("category")
        kind = self.choice(category[0] if isinstance(category, list) else category, "treatment", "line_type")
        kind = kind or ("targeted_therapy" if field == "targeted_agent" else "chemotherapy")
        if resource["resourceType"] == "MedicationRequest":
            period = ((resource.get("dosageInstruction") or [{}])[0].get("timing", {}).get("repeat", {})).get(
                "boundsPeriod", {}
            )
        else:
            period = resource.get("effectivePeriod") or {"start": resource.get("effectiveDateTime")}
        start, end = _day(period.get("start")), _day(period.get("end"))
        key = resource.get("groupIdentifier", {}).get("value") or (kind, start, end)
        if key not in groups:
            reason = resource.get("statusReason")
            reason = reason[0] if isinstance(reason, list) else reason  # a list in MedicationAdministration
            groups[key] = {
                "line_type": kind,
                "treatment_start_date": start,
                "treatment_end_date": end,
                **self.intent_of(resource),
                "end_reason": self.choice(reason, "treatment", "end_reason") if reason else None,
                MEDICATION_FIELDS.get(kind, "chemo_agents"): [],
            }
            lines.append(groups[key])
        if agent is not None:
            groups[key][MEDICATION_FIELDS.get(kind, "chemo_agents")].append(agent)
