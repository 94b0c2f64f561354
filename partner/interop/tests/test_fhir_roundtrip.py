"""A case exported as a FHIR bundle and imported into an empty registry comes back record for record.

The cases below fill every field of the dictionary at least once (a test checks that they do), so
the round trip covers the common dataset, treatment lines, follow-up events, status, consent and
every tumour module.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.conf import settings
from django.db import transaction
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from partner.cases.models import Patient, Status, TumourCase
from partner.cases.services import create_case
from partner.dictionary.loader import Dictionary
from partner.dictionary.schema import FieldDef, FormDef
from partner.dictionary.validation import validate_record
from partner.interop.fhir import bundle_to_forms, case_bundle, import_bundle
from partner.lib.pseudonym import Identity, pseudonym
from partner.quality.receivers import deferred
from partner.testing import RegistryTestCase, case_forms

#: (morphology, topography) of a tumour of each entity with a module, and one without.
ENTITIES = {
    "ACC": ("8370/3", "C74.0"),
    "MELANOMA": ("8720/3", "C44.5"),
    "PPB": ("8973/3", "C34.1"),
    "NPC": ("8072/3", "C11.9"),
    "THYROID_CA": ("8260/3", "C73.9"),
    "PANCREATOBLASTOMA": ("8971/3", "C25.0"),
    "GIST": ("8936/3", "C16.2"),
}
#: The cases of the round trip, variant k the k-th: together they fill every field of the dictionary.
VARIANTS = [
    *("ACC", "MELANOMA", "MELANOMA", "PPB", "NPC", "THYROID_CA", "THYROID_CA", "THYROID_CA"),
    *("PANCREATOBLASTOMA", "GIST"),
]
MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
CODES = {
    "ORPHA": "ORPHA:1501",
    "HGNC": "TP53",
    "HGVS": "NM_000546.6:c.1010G>A",
    "HPO": "HP:0002664",
    "ICF": "b1440",
    "ISO3166": "CH",
    "UCUM": "mg",
}


def value_for(f: FieldDef, k: int) -> Any:
    """A value field `f` accepts; `k` picks among the choices, so that variants open other branches."""
    codes = [c.code for c in f.choices]
    if f.type == "choice":
        return codes[k % len(codes)]
    if f.type == "multichoice":
        return sorted({codes[k % len(codes)], codes[(k + 1) % len(codes)]}, key=codes.index)
    if f.type in ("integer", "decimal"):
        lo = f.min if f.min is not None else 0
        hi = f.max if f.max is not None else lo + 100
        x = lo + (hi - lo) * (0.3711 + (k % 5) / 10)
        return int(x) if f.type == "integer" else round(x, f.decimals if f.decimals is not None else 2)
    if f.type == "date":
        return (dt.date(2024, 3, 1) + dt.timedelta(days=37 * (k % 10) + len(f.code))).isoformat()
    if f.type == "boolean":
        return k % 2 == 0
    if f.type == "morphology":
        return "8000/3"
    if f.type == "topography":
        return "C80.9"
    if f.type == "code":
        return CODES[f.code_system or "UCUM"]
    return f"{f.code} ({k}): text with ümlauts"[: f.max_length or 200]


def fill(form: FormDef, given: dict[str, Any], context: dict[str, Any], k: int) -> dict[str, Any]:
    """Every field of `form` its conditions show, after the values `given`."""
    values = dict(given)
    for _ in range(4):  # a value can show fields that depend on it
        for f in form.fields:
            if f.computed or f.code in values:
                continue
            conditions = f.conditions()
            if "show_if" in conditions and not conditions["show_if"].evaluate({**context, **values}):
                continue
            values[f.code] = value_for(f, k + len(f.code))
    result = validate_record(form, values, context=context)
    hidden = {e.field for e in result.errors if e.message.startswith("must be empty")}
    return {key: v for key, v in values.items() if key not in hidden and v is not None}


#: Values that open the branches of a module the other values leave closed, one set a variant.
MODULE_BRANCHES: dict[str, list[dict[str, Any]]] = {
    "melanoma": [{"mel_slnb_done": True, "mel_slnb_result": "positive", "mel_ajcc_stage": "IV"}, {}],
    "thyroid": [{"thy_histology": "medullary"}, {"thy_histology": "papillary"}, {"thy_histology": "follicular"}],
    "npc": [{"npc_induction_chemo": True}],
}


def full_forms(d: Dictionary, entity: str, k: int) -> dict[str, Any]:
    """Every form of a case of `entity` filled; variant `k` takes other choices, so other branches."""
    morphology, topography = ENTITIES[entity]
    given: dict[str, dict[str, Any]] = {
        "registration": {"date_of_birth": "2012-05-04", "sex": ["female", "male"][k % 2]},
        "diagnosis": {
            "diagnosis_date": "2024-02-10",
            "onset_date": "2023-12-01",
            "morphology": morphology,
            "topography": topography,
            "stage_system": ["TNM8", "AJCC8", "ENSAT", "not_staged"][k % 4],
        },
        "status": {"patient_status": ["alive", "dead", "lost_to_follow_up", "opted_out"][k % 4]},
        "consent": {"consent_reuse": ["given", "withdrawn", "refused"][k % 3]},
    }
    for module, branches in MODULE_BRANCHES.items():
        given[module] = branches[k % len(branches)]
    forms: dict[str, Any] = {}
    context: dict[str, Any] = {}
    for form in d.forms:
        if form.repeating or (form.is_module and entity not in form.entities):
            continue
        forms[form.code] = fill(form, given.get(form.code, {}), context, k)
        context.update({f"{form.code}.{key}": v for key, v in forms[form.code].items()})
    lines = [
        {"line_type": "surgery", "surgery_type": ["resection_primary", "biopsy_open"][k % 2]},
        {"line_type": "chemotherapy"},
        {"line_type": "radiotherapy", "rt_technique": ["photons", "radioiodine", "brachytherapy"][k % 3]},
        {"line_type": "targeted_therapy"},
        {"line_type": "immunotherapy"},
        {"line_type": "other"},
    ]
    forms["treatment"] = [fill(d.form_by_code["treatment"], line, {}, k + n) for n, line in enumerate(lines)]
    events = []
    for n, choice in enumerate(field_of(d, "follow_up", "event_type").choices):
        event = fill(d.form_by_code["follow_up"], {"event_type": choice.code, "relapse_type": "metastatic"}, {}, k + n)
        if (n + k) % 2 and choice.code != "response_assessment":  # no disease status: no CancerDiseaseStatus
            event.pop("disease_status", None)
            event.pop("status_evidence", None)
        events.append(event)
    forms["follow_up"] = events
    return forms


def field_of(d: Dictionary, form: str, field: str) -> FieldDef:
    return next(f for f in d.form_by_code[form].fields if f.code == field)


def snapshot(case: TumourCase) -> dict[str, Any]:
    """What an import must give back: the records by form and number, the case's and the patient's columns."""
    case.refresh_from_db()
    return {
        "case": {
            "external_id": case.external_id,
            "morphology": case.morphology,
            "topography": case.topography,
            "iccc_group": case.iccc_group,
            "iccc_extended": case.iccc_extended,
            "entity": case.entity.code if case.entity else None,
            "diagnosis_date": case.diagnosis_date,
            "dictionary_version": case.dictionary_version.number,
            "pseudonym": case.patient.pseudonym,
            "sex": case.patient.sex,
            "date_of_birth": case.patient.date_of_birth,
            "country": case.patient.country.code,
        },
        "records": {(r.form.code, r.number): r.values for r in case.records.select_related("form")},
    }


def draft_forms() -> dict[str, dict[str, Any]]:
    """Drafts whose half-filled records have no home in mCODE: a line with no type, a line of drugs
    with none named, an event with no type, empty records, a stage system with nothing staged."""
    gist = case_forms(
        morphology="8936/3",
        topography="C16.2",
        diagnosis={
            **{"diagnosis_date": "2024-02-10", "morphology": "8936/3", "topography": "C16.2"},
            "stage_system": "COG_ACC",
        },
        treatment=[
            {"treatment_start_date": "2024-03-01", "treatment_intent": "curative", "severe_toxicity": True},
            {"line_type": "chemotherapy", "chemo_cycles": 4},
            {"line_type": "targeted_therapy", "targeted_other": "selumetinib"},
            {},
        ],
        follow_up=[{"disease_status": "stable", "event_date": "2024-06-01"}, {}, {"event_type": "relapse"}],
        status={"last_contact_date": "2025-01-10"},
        consent={},
    )
    acc = case_forms(
        diagnosis={
            **{"diagnosis_date": "2024-02-10", "morphology": "8370/3", "topography": "C74.0"},
            **{"stage_system": "TNM8", "tnm_basis": "c"},
        },
        acc={},
        status={"patient_status": "dead"},
    )
    return {"GIST-draft": gist, "ACC-draft": acc}


class RoundTripTestCase(RegistryTestCase):
    cases: list[TumourCase]

    @classmethod
    def registered(cls, name: str, forms: dict[str, Any], status: str) -> TumourCase:
        """A case of Padova known there as `name`; quality control, not what these tests are about, waits."""
        registration = forms["registration"]
        born = dt.date.fromisoformat(registration["date_of_birth"])
        identity = Identity("Child", name, born, registration["sex"], "IT")
        with deferred():
            return create_case(
                dictionary=cls.dictionary,
                centre=cls.padova,
                pseudonym=pseudonym(identity, settings.PSEUDONYM_KEY),
                forms=forms,
                status=status,
                external_id=name,
            )

    def round_trip(self, cases: dict[str, dict[str, Any]], status: str) -> None:
        """Register `cases` (name -> forms) and export them in a registry that then vanishes (a savepoint
        rolled back), import the bundles into the registry left empty, and compare field by field."""
        with transaction.atomic():
            before = []
            for name, forms in cases.items():
                case = self.registered(name, forms, status)
                before.append((snapshot(case), json.loads(json.dumps(case_bundle(case)))))
            transaction.set_rollback(True)
        self.assertEqual((TumourCase.objects.count(), Patient.objects.count()), (0, 0))
        for original, bundle in before:
            with deferred():
                again = snapshot(import_bundle(bundle, centre=self.padova, status=status))
            name = original["case"]["external_id"]
            self.assertEqual(again["case"], original["case"], name)
            self.assertEqual(sorted(again["records"]), sorted(original["records"]), name)
            for key, values in original["records"].items():
                for field in sorted(values.keys() | again["records"][key].keys()):
                    with self.subTest(case=name, record=key, field=field):
                        self.assertEqual(again["records"][key].get(field, "(absent)"), values.get(field, "(absent)"))
        self.assertEqual(TumourCase.objects.count(), len(cases))


class RoundTripTests(RoundTripTestCase):
    def test_each_case_comes_back_record_for_record_in_an_empty_registry(self) -> None:
        cases = {f"{entity}-{k}": full_forms(self.dictionary, entity, k) for k, entity in enumerate(VARIANTS)}
        self.round_trip(cases, Status.SUBMITTED)

    def test_a_drafts_half_filled_records_come_back_too(self) -> None:
        self.round_trip(draft_forms(), Status.DRAFT)
        gist = TumourCase.objects.get(external_id="GIST-draft")
        self.assertEqual(gist.records.get(form__code="treatment", number=4).values, {})
        self.assertEqual(gist.records.get(form__code="consent").values, {})

    def test_a_line_of_unknown_type_and_a_line_without_drugs_keep_their_place(self) -> None:
        bundle = case_bundle(self.registered("GIST-draft", draft_forms()["GIST-draft"], Status.DRAFT))
        procedures = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Procedure"]
        absent = {"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}
        self.assertEqual([p["category"] for p in procedures], [{"extension": [absent]}, {"extension": [absent]}])
        requests = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "MedicationRequest"]
        self.assertEqual([r["medicationCodeableConcept"] for r in requests], [{"extension": [absent]}] * 2)


class FilledCasesTestCase(RoundTripTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.cases = [
            cls.registered(f"{entity}-{k}", full_forms(cls.dictionary, entity, k), Status.SUBMITTED)
            for k, entity in enumerate(VARIANTS)
        ]


class FilledCasesTests(FilledCasesTestCase):
    def test_the_cases_fill_every_field_of_the_dictionary(self) -> None:
        filled = {
            (code, field)
            for case in self.cases
            for (code, _n), values in snapshot(case)["records"].items()
            for field in values
        }
        every = {(form.code, f.code) for form in self.dictionary.forms for f in form.fields}
        self.assertEqual(every - filled, set())
        self.assertEqual({c.entity.code for c in self.cases if c.entity}, set(ENTITIES))

    def test_the_bundles_and_each_of_their_entries_validate_as_fhir_r4(self) -> None:
        for case in self.cases:
            bundle = case_bundle(case)
            Bundle.model_validate(bundle)
            urls = [e["fullUrl"] for e in bundle["entry"]]
            self.assertEqual(len(set(urls)), len(urls))
            for entry in bundle["entry"]:
                get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])


class FieldObservationTests(FilledCasesTestCase):
    """What mCODE has no element for goes as Observations coded with the dictionary's own field codes."""

    def setUp(self) -> None:
        self.bundle = case_bundle(self.cases[0])  # an adrenocortical carcinoma, every field filled
        self.by_url = {e["fullUrl"]: e["resource"] for e in self.bundle["entry"]}

    def fields(self, code: str) -> list[dict[str, Any]]:
        return [
            r
            for r in self.by_url.values()
            if r["resourceType"] == "Observation"
            and r["code"]["coding"][0] == {**r["code"]["coding"][0], "code": code}
            and r["code"]["coding"][0]["system"] == "urn:partner:dictionary"
        ]

    def test_a_module_field_is_an_observation_with_its_value_in_the_fields_unit(self) -> None:
        (weight,) = self.fields("acc.acc_tumour_weight_g")
        value = self.cases[0].records.get(form__code="acc").values["acc_tumour_weight_g"]
        unit = {"system": "http://unitsofmeasure.org", "code": "g", "unit": "g"}
        self.assertEqual(weight["valueQuantity"], {"value": value, **unit})
        self.assertEqual(weight["code"]["coding"][0]["display"], "Tumour weight")
        (condition,) = [r for r in self.by_url.values() if r["resourceType"] == "Condition"]
        self.assertEqual(self.by_url[weight["focus"][0]["reference"]], condition)

    def test_a_multiple_choice_is_one_observation_a_value(self) -> None:
        values = self.cases[0].records.get(form__code="acc").values["acc_hormone_secretion"]
        observations = self.fields("acc.acc_hormone_secretion")
        self.assertEqual(len(values), 2)
        self.assertEqual([o["valueCodeableConcept"]["coding"][0]["code"] for o in observations], values)

    def test_a_value_of_a_line_names_the_lines_resource(self) -> None:
        (cycles,) = self.fields("treatment.chemo_cycles")
        line = self.by_url[cycles["focus"][0]["reference"]]
        self.assertEqual(line["resourceType"], "MedicationRequest")
        self.assertEqual(line["category"][0]["coding"][0]["code"], "chemotherapy")

    def test_an_event_without_disease_status_is_an_observation_of_its_type(self) -> None:
        relapse = next(
            r
            for r in self.fields("follow_up.event_type")
            if r["valueCodeableConcept"]["coding"][0]["code"] == "relapse"
        )
        self.assertIn("effectiveDateTime", relapse)
        self.assertNotIn("meta", relapse)
        about = [self.by_url[r["focus"][0]["reference"]] for r in self.fields("follow_up.relapse_type")]
        self.assertIn(relapse, about)

    def test_an_event_with_a_disease_status_is_a_cancer_disease_status_and_says_its_type(self) -> None:
        progression = next(
            r
            for r in self.fields("follow_up.event_type")
            if r["valueCodeableConcept"]["coding"][0]["code"] == "progression"
        )
        event = self.by_url[progression["focus"][0]["reference"]]
        self.assertEqual(event["meta"]["profile"], [MCODE + "mcode-cancer-disease-status"])
        self.assertEqual(event["code"]["coding"], [{"system": "http://loinc.org", "code": "97509-4"}])

    def test_codes_of_other_systems_carry_their_standard_coding(self) -> None:
        (orpha,) = self.fields("diagnosis.orpha_code")
        self.assertEqual(
            orpha["valueCodeableConcept"]["coding"],
            [
                {"system": "urn:partner:dictionary:diagnosis.orpha_code", "code": "ORPHA:1501"},
                {"system": "http://www.orpha.net", "code": "1501"},
            ],
        )
        bundle = json.loads(json.dumps(self.bundle).replace("urn:partner:dictionary:diagnosis.orpha_code", "urn:x"))
        self.assertEqual(bundle_to_forms(bundle)[1]["diagnosis"]["orpha_code"], "ORPHA:1501")

    def test_a_field_with_an_mcode_element_goes_there_and_only_there(self) -> None:
        for code in (
            "diagnosis.morphology",
            "treatment.chemo_agents",
            "follow_up.disease_status",
            "status.date_of_death",
        ):
            self.assertEqual(self.fields(code), [], code)
