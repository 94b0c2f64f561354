"""The FHIR export meets every mCODE STU4 profile it claims in meta.profile, checked against the
profiles' own snapshots (the npm packages pinned in package.json) by the validator in profiles.py;
the validator does find what breaks a profile; and the demo registry's export imports back field by field.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.test import SimpleTestCase, TestCase

from partner.cases.demo import generate
from partner.cases.models import Patient, Status, TumourCase
from partner.dictionary.loader import get_dictionary, load_bundled
from partner.interop import fhir_vocabulary
from partner.interop.fhir import bundle_to_forms, case_bundle
from partner.interop.fhir_import import import_bundle_reported
from partner.interop.fhir_report import LEFT_OUT
from partner.interop.tests.profiles import Report, Validator
from partner.interop.tests.test_fhir_roundtrip import FilledCasesTestCase, snapshot
from partner.quality.receivers import deferred

MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
SNOMED = "http://snomed.info/sct"
ABSENT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
#: What fhirpathpy cannot evaluate: `hasValue()` is not implemented (ele-1 holds for JSON without empty elements).
UNEVALUABLE = {"ele-1: hasValue() or (children().count() > id.count())"}
#: The required value sets the installed packages cannot expand: FHIR core's and US Core's (their packages
#: are not served), and one defined by a SNOMED CT filter. A code bound to them is not checked.
NOT_IN_THE_PACKAGES = {
    "http://hl7.org/fhir/ValueSet/administrative-gender",
    "http://hl7.org/fhir/ValueSet/condition-ver-status",
    "http://hl7.org/fhir/ValueSet/event-status",
    "http://hl7.org/fhir/ValueSet/medicationrequest-category",
    "http://hl7.org/fhir/ValueSet/medicationrequest-intent",
    "http://hl7.org/fhir/ValueSet/medicationrequest-status",
    "http://hl7.org/fhir/ValueSet/observation-status",
    "http://hl7.org/fhir/us/core/ValueSet/us-core-problem-or-health-concern",
    "http://hl7.org/fhir/us/core/ValueSet/us-core-screening-assessment-condition-category",
    "http://hl7.org/fhir/us/core/ValueSet/us-core-simple-observation-category",
    "http://hl7.org/fhir/us/mcode/ValueSet/mcode-cancer-disease-status-evidence-type-vs",
}


def check(validator: Validator, bundles: list[dict[str, Any]]) -> tuple[Report, int]:
    """Every resource of the bundles against every profile it claims: the report, and how many claims."""
    report, claims = Report(), 0
    for bundle in bundles:
        for entry in bundle["entry"]:
            for url in entry["resource"].get("meta", {}).get("profile", []):
                claims += 1
                found = validator.validate(entry["resource"], url)
                found.violations = [f"{entry['fullUrl']}: {v}" for v in found.violations]
                report.merge(found)
    return report, claims


def claimed(bundles: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for bundle in bundles:
        for entry in bundle["entry"]:
            for url in entry["resource"].get("meta", {}).get("profile", []):
                counts[url] = counts.get(url, 0) + 1
    return counts


class ValidatorTests(SimpleTestCase):
    """Each kind of violation the validator is there to find, found."""

    validator: Validator

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.validator = Validator()

    def patient(self, **changes: Any) -> dict[str, Any]:
        patient = {
            "resourceType": "Patient",
            "meta": {"profile": [MCODE + "mcode-cancer-patient"]},
            "identifier": [{"system": "urn:partner:pseudonym", "value": "P-1"}],
            "name": [{"extension": [{"url": ABSENT, "valueCode": "masked"}]}],
            "gender": "female",
        }
        return {**patient, **changes}

    def laterality(self, **value: Any) -> dict[str, Any]:
        return {"url": MCODE + "mcode-laterality-qualifier", **value}

    def violations(self, resource: dict[str, Any], profile: str) -> list[str]:
        return self.validator.validate(resource, MCODE + profile).violations

    def test_a_patient_as_the_export_writes_it_passes(self) -> None:
        self.assertEqual(self.violations(self.patient(), "mcode-cancer-patient"), [])

    def test_it_reports_a_required_element_missing(self) -> None:
        patient = self.patient()
        del patient["name"]
        (violation,) = self.violations(patient, "mcode-cancer-patient")
        self.assertIn("Patient.name has 0 value(s), the profile requires at least 1", violation)

    def test_it_reports_a_failing_invariant(self) -> None:
        (violation,) = self.violations(self.patient(name=[{"use": "official"}]), "mcode-cancer-patient")
        self.assertIn("Patient.name breaks the invariant us-core-6", violation)

    def test_it_reports_a_wrong_fixed_value(self) -> None:
        extension = self.laterality(url="http://example.org/laterality", valueCodeableConcept={"text": "left"})
        violations = self.violations(extension, "mcode-laterality-qualifier")
        self.assertTrue(
            any("Extension.url is 'http://example.org/laterality', the profile fixes" in v for v in violations)
        )

    def test_it_reports_a_code_outside_a_required_value_set(self) -> None:
        extension = self.laterality(valueCodeableConcept={"coding": [{"system": SNOMED, "code": "12345"}]})
        (violation,) = self.violations(extension, "mcode-laterality-qualifier")
        self.assertIn("Extension.value[x]", violation)
        self.assertIn("not in the required value set", violation)
        left = self.laterality(valueCodeableConcept={"coding": [{"system": SNOMED, "code": "7771000"}]})
        self.assertEqual(self.violations(left, "mcode-laterality-qualifier"), [])

    def test_it_reports_a_type_a_choice_does_not_allow(self) -> None:
        violations = self.violations(self.laterality(valueString="left"), "mcode-laterality-qualifier")
        self.assertTrue(any("valueString is not one of the types allowed" in v for v in violations), violations)

    def test_it_reports_a_slice_under_its_minimum(self) -> None:
        technique = {"url": MCODE + "mcode-radiotherapy-technique", "valueCodeableConcept": {"text": "IMRT"}}
        extension = {"url": MCODE + "mcode-radiotherapy-modality-and-technique", "extension": [technique]}
        violations = self.violations(extension, "mcode-radiotherapy-modality-and-technique")
        self.assertTrue(any("Extension.extension:modality has 0 value(s)" in v for v in violations), violations)

    def test_it_reports_a_value_that_does_not_contain_the_pattern(self) -> None:
        procedure = {
            "resourceType": "Procedure",
            "status": "completed",
            "code": {"coding": [{"system": SNOMED, "code": "387713003"}]},
            "subject": {"reference": "Patient/1"},
            "performedPeriod": {"start": "2024-01-01"},
        }
        violations = self.violations(procedure, "mcode-radiotherapy-course-summary")
        self.assertTrue(any("Procedure.code is" in v and "pattern" in v for v in violations), violations)
        procedure["code"]["coding"][0]["code"] = "1217123003"
        self.assertEqual(self.violations(procedure, "mcode-radiotherapy-course-summary"), [])

    def test_it_checks_an_extension_against_its_own_definition(self) -> None:
        wrong = self.laterality(valueCodeableConcept={"coding": [{"system": SNOMED, "code": "12345"}]})
        patient = self.patient(extension=[wrong])
        violations = self.violations(patient, "mcode-cancer-patient")
        self.assertTrue(any("(LateralityQualifier)" in v and "required value set" in v for v in violations), violations)

    def test_it_reports_an_element_the_type_does_not_have(self) -> None:
        violations = self.violations(self.patient(nickname="Giu"), "mcode-cancer-patient")
        self.assertEqual(violations, ["CancerPatient: Patient.nickname is not an element of this type"])

    def test_it_lists_what_it_could_not_check_rather_than_passing_it(self) -> None:
        report = self.validator.validate(self.patient(), MCODE + "mcode-cancer-patient")
        self.assertIn("http://hl7.org/fhir/ValueSet/administrative-gender", report.unchecked_value_sets)
        self.assertEqual(set(report.unevaluated_invariants), UNEVALUABLE)

    def test_it_leaves_the_resource_as_it_was(self) -> None:
        patient = self.patient()
        before = copy.deepcopy(patient)
        self.validator.validate(patient, MCODE + "mcode-cancer-patient")
        self.assertEqual(patient, before)

    def test_a_profile_that_is_not_installed_is_a_violation(self) -> None:
        (violation,) = self.violations(self.patient(), "no-such-profile")
        self.assertIn("is not installed", violation)


class ExamplesTests(SimpleTestCase):
    def test_mcodes_own_examples_meet_the_profiles_they_claim(self) -> None:
        """The validator finds nothing where there is nothing to find: mCODE's examples, from its package."""
        validator, claims, violations = Validator(), 0, []
        examples = Path(settings.BASE_DIR) / "node_modules" / "hl7.fhir.us.mcode" / "example"
        for path in sorted(examples.glob("*.json")):
            resource = json.loads(path.read_text(encoding="utf-8"))
            for url in resource.get("meta", {}).get("profile", []):
                if url.startswith(MCODE):
                    claims += 1
                    violations += validator.validate(resource, url).violations
        self.assertGreater(claims, 100)
        self.assertEqual(violations, [])


class ClaimedProfilesTests(SimpleTestCase):
    def test_every_mcode_url_the_export_can_write_is_an_installed_structure_definition(self) -> None:
        validator = Validator()
        urls = {v for v in vars(fhir_vocabulary).values() if isinstance(v, str) and v.startswith(MCODE) and v != MCODE}
        urls |= {profile for profile, _codes in fhir_vocabulary.TNM_CODES.values()}
        self.assertGreaterEqual(len(urls), 15)
        self.assertEqual({u for u in urls if validator.packages.structure(u) is None}, set())


class FilledCasesProfileTests(FilledCasesTestCase):
    """Cases that fill every field of the dictionary: every branch of the export."""

    def test_every_resource_meets_every_profile_it_claims(self) -> None:
        bundles = [json.loads(json.dumps(case_bundle(case))) for case in self.cases]
        report, claims = check(Validator(), bundles)
        self.assertEqual(report.violations, [])
        self.assertGreater(claims, 100)
        self.assertLessEqual(set(report.unevaluated_invariants), UNEVALUABLE)
        self.assertLessEqual(set(report.unchecked_value_sets), NOT_IN_THE_PACKAGES)


class DemoExportTests(TestCase):
    """The demo registry's cases, exported: the data the export meets in practice."""

    bundles: list[dict[str, Any]]

    @classmethod
    def setUpTestData(cls) -> None:
        load_bundled()
        with deferred():
            for _number, _error in generate(get_dictionary(), patients=40, seed=11, key=settings.PSEUDONYM_KEY):
                pass
        cls.cases = list(TumourCase.objects.order_by("pk"))
        cls.bundles = [json.loads(json.dumps(case_bundle(case))) for case in cls.cases]

    def test_every_resource_meets_every_profile_it_claims(self) -> None:
        report, claims = check(Validator(), self.bundles)
        self.assertEqual(report.violations, [])
        self.assertGreater(claims, 5 * len(self.bundles))
        self.assertLessEqual(set(report.unevaluated_invariants), UNEVALUABLE)
        self.assertLessEqual(set(report.unchecked_value_sets), NOT_IN_THE_PACKAGES)

    def test_every_profile_it_claims_is_installed(self) -> None:
        validator = Validator()
        counts = claimed(self.bundles)
        self.assertEqual([url for url in counts if validator.packages.structure(url) is None], [])
        for kind in ("mcode-cancer-patient", "mcode-primary-cancer-condition"):
            self.assertEqual(counts.get(MCODE + kind), len(self.bundles), kind)
        self.assertIn(MCODE + "mcode-radiotherapy-course-summary", counts)

    def test_each_case_imports_back_field_by_field_into_the_registry_emptied_of_its_cases(self) -> None:
        before = {case.external_id: (case.centre, snapshot(case)) for case in self.cases}
        TumourCase.objects.all().delete()
        Patient.objects.all().delete()
        for bundle in self.bundles:
            external_id = bundle_to_forms(bundle)[0]["external_id"]
            centre, original = before[external_id]
            with deferred():
                done = import_bundle_reported(bundle, centre=centre, status=Status.DRAFT)
            self.assertEqual([(line.resource, line.value, line.message) for line in done.report.of(LEFT_OUT)], [])
            again = snapshot(done.case)
            self.assertEqual(again["case"], original["case"], external_id)
            self.assertEqual(sorted(again["records"]), sorted(original["records"]), external_id)
            for key, values in original["records"].items():
                for field in sorted(values.keys() | again["records"][key].keys()):
                    with self.subTest(case=external_id, record=key, field=field):
                        self.assertEqual(again["records"][key].get(field, "(absent)"), values.get(field, "(absent)"))
        self.assertEqual(TumourCase.objects.count(), len(self.cases))
