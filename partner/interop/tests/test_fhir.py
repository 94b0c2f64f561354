"""FHIR R4 (mCODE STU4): a case goes out as a valid bundle without names, and comes back as the same values."""

import copy
import json
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from partner.cases.models import TumourCase
from partner.cases.services import CaseInvalid, current_forms
from partner.interop.fhir import BundleError, bundle_to_forms, case_bundle, import_bundle
from partner.testing import RegistryTestCase

MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


class FhirTestCase(RegistryTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.giulia = cls.register(
            cls.padova,
            given="Giulia",
            family="Rossi",
            born="2012-05-04",
            diagnosis={
                "diagnosis_date": "2024-02-10",
                "morphology": "8370/3",
                "topography": "C74.0",
                "basis_of_diagnosis": "7",
                "stage_system": "ENSAT",
                "stage_group": "II",
            },
            treatment=[
                {
                    "line_type": "surgery",
                    "treatment_start_date": "2024-02-20",
                    "surgery_type": "resection_primary",
                    "resection_margin": "R0",
                },
                {
                    "line_type": "chemotherapy",
                    "treatment_start_date": "2024-03-15",
                    "chemo_agents": ["cisplatin", "etoposide"],
                },
            ],
            follow_up=[
                {"event_type": "response_assessment", "event_date": "2024-09-01", "disease_status": "no_evidence"}
            ],
            status={"patient_status": "alive", "last_contact_date": "2025-01-10", "last_disease_status": "no_evidence"},
        )
        cls.marco = cls.register(
            cls.milano,
            given="Marco",
            family="Bianchi",
            born="2009-11-23",
            sex="male",
            registration={"date_of_birth": "2009-11-23", "sex": "male", "country_of_residence": "CH"},
            diagnosis={
                "onset_date": "2023-12-01",
                "diagnosis_date": "2024-01-15",
                "morphology": "8370/3",
                "topography": "C74.0",
                "laterality": "left",
                "basis_of_diagnosis": "7",
                "stage_system": "TNM8",
                "stage_group": "III",
                "tnm_basis": "p",
                "tnm_t": "T3",
                "tnm_n": "N0",
                "tnm_m": "M0",
            },
            treatment=[
                {
                    "line_type": "chemotherapy",
                    "treatment_start_date": "2024-02-01",
                    "treatment_end_date": "2024-06-30",
                    "treatment_intent": "curative",
                    "end_reason": "toxicity",
                    "chemo_agents": ["mitotane"],
                },
                {
                    "line_type": "radiotherapy",
                    "treatment_start_date": "2024-07-10",
                    "treatment_end_date": "2024-08-20",
                    "treatment_intent": "palliative",
                    "rt_technique": "photons",
                    "rt_total_dose": 50.4,
                    "rt_fractions": 28,
                    "rt_site": "adrenal bed",
                },
                {
                    "line_type": "targeted_therapy",
                    "treatment_start_date": "2024-09-01",
                    "targeted_agent": ["sunitinib"],
                },
            ],
            follow_up=[
                {"event_type": "response_assessment", "event_date": "2024-09-01", "disease_status": "progressing"},
                {"event_type": "relapse", "event_date": "2024-10-01", "relapse_type": "metastatic"},
            ],
            status={
                "patient_status": "dead",
                "date_of_death": "2025-02-03",
                "cause_of_death": "tumour",
                "last_contact_date": "2025-02-03",
            },
        )

    def setUp(self) -> None:
        self.bundle = case_bundle(self.giulia)


class ExportTests(FhirTestCase):
    def test_the_bundle_and_each_of_its_entries_validate_as_fhir_r4(self) -> None:
        for case in (self.giulia, self.marco):
            bundle = case_bundle(case)
            Bundle.model_validate(bundle)
            self.assertEqual(bundle["type"], "collection")
            for entry in bundle["entry"]:
                resource = entry["resource"]
                get_fhir_model_class(resource["resourceType"]).model_validate(resource)

    def test_resources_claim_the_mcode_stu4_profiles(self) -> None:
        profiles = {
            (e["resource"]["resourceType"], *e["resource"].get("meta", {}).get("profile", []))
            for e in self.bundle["entry"]
        }
        self.assertLessEqual(
            {
                ("Patient", MCODE + "mcode-cancer-patient"),
                ("Condition", MCODE + "mcode-primary-cancer-condition"),
                ("Observation", MCODE + "mcode-cancer-stage"),
                ("Procedure", MCODE + "mcode-cancer-related-surgical-procedure"),
                ("MedicationRequest", MCODE + "mcode-cancer-related-medication-request"),
                ("Observation", MCODE + "mcode-cancer-disease-status"),
            },
            profiles,
        )
        marco = {p for e in case_bundle(self.marco)["entry"] for p in e["resource"].get("meta", {}).get("profile", [])}
        for profile in (
            "mcode-tnm-stage-group",
            "mcode-tnm-primary-tumor-category",
            "mcode-tnm-regional-nodes-category",
            "mcode-tnm-distant-metastases-category",
            "mcode-radiotherapy-course-summary",
            "mcode-radiotherapy-volume",
        ):
            self.assertIn(MCODE + profile, marco)

    def test_the_tumour_is_coded_in_icd_o_3_with_its_iccc_3_group(self) -> None:
        (condition,) = resources(self.bundle, "Condition")
        histology = next(e for e in condition["extension"] if e["url"] == MCODE + "mcode-histology-morphology-behavior")
        self.assertEqual(histology["valueCodeableConcept"]["coding"], [{"system": ICDO3, "code": "8370/3"}])
        self.assertIn({"system": ICDO3, "code": "8370/3"}, condition["code"]["coding"])
        self.assertIn(
            {"system": "http://terminology.hl7.org/CodeSystem/iccc-3", "code": "093"}, condition["code"]["coding"]
        )
        self.assertEqual(condition["bodySite"][0]["coding"], [{"system": ICDO3, "code": "C74.0"}])
        self.assertEqual(condition["recordedDate"], "2024-02-10")

    def test_no_name_leaves_the_registry(self) -> None:
        text = json.dumps(self.bundle)
        for name in ("Giulia", "Rossi"):
            self.assertNotIn(name, text)
        (patient,) = resources(self.bundle, "Patient")
        masked = {"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "masked"}
        self.assertEqual(patient["name"], [{"extension": [masked]}])  # US Core wants a name: it says there is none
        self.assertEqual(
            patient["identifier"], [{"system": "urn:partner:pseudonym", "value": self.giulia.patient.pseudonym}]
        )
        self.assertEqual(
            (patient["birthDate"], patient["gender"], patient["deceasedBoolean"]), ("2012-05-04", "female", False)
        )

    def test_the_same_case_always_gives_the_same_bundle(self) -> None:
        self.assertEqual(case_bundle(self.giulia), self.bundle)
        urls = [e["fullUrl"] for e in self.bundle["entry"]]
        self.assertTrue(all(u.startswith("urn:uuid:") for u in urls))
        self.assertEqual(len(set(urls)), len(urls))
        self.assertFalse(set(urls) & {e["fullUrl"] for e in case_bundle(self.marco)["entry"]})

    def test_each_chemotherapy_agent_is_a_request_of_the_same_line(self) -> None:
        requests = resources(self.bundle, "MedicationRequest")
        agents = [{c["system"]: c["code"] for c in r["medicationCodeableConcept"]["coding"]} for r in requests]
        self.assertEqual([a["http://www.whocc.no/atc"] for a in agents], ["L01XA01", "L01CB01"])
        self.assertEqual(len({json.dumps(r["groupIdentifier"]) for r in requests}), 1)

    def test_a_death_and_a_radiotherapy_dose_go_out_as_mcode_expects(self) -> None:
        bundle = case_bundle(self.marco)
        (patient,) = resources(bundle, "Patient")
        self.assertEqual(patient["deceasedDateTime"], "2025-02-03")
        radiotherapy = next(
            p
            for p in resources(bundle, "Procedure")
            if MCODE + "mcode-radiotherapy-course-summary" in p["meta"]["profile"]
        )
        dose = next(
            e for e in radiotherapy["extension"] if e["url"] == MCODE + "mcode-radiotherapy-dose-delivered-to-volume"
        )
        total = next(e for e in dose["extension"] if e["url"] == "totalDoseDelivered")["valueQuantity"]
        self.assertEqual((total["value"], total["code"]), (5040, "cGy"))


class ReadBackTests(FhirTestCase):
    def test_a_bundle_read_back_gives_the_case_values(self) -> None:
        case_fields, forms = bundle_to_forms(self.bundle)
        self.assertEqual(case_fields, {"pseudonym": self.giulia.patient.pseudonym, "external_id": str(self.giulia.pk)})
        self.assertEqual(forms, current_forms(self.dictionary, self.giulia))

    def test_staging_radiotherapy_a_relapse_and_death_come_back_unchanged(self) -> None:
        _, forms = bundle_to_forms(case_bundle(self.marco))
        expected = current_forms(self.dictionary, self.marco)
        self.assertEqual(forms, expected)
        relapse = {"event_type": "relapse", "event_date": "2024-10-01", "relapse_type": "metastatic"}
        self.assertEqual(forms["follow_up"][1], relapse)
        self.assertEqual(expected["treatment"][1]["rt_total_dose"], 50.4)
        self.assertEqual(expected["diagnosis"]["tnm_basis"], "p")

    def test_a_sender_using_only_standard_codes_is_understood(self) -> None:
        bundle = json.loads(json.dumps(self.bundle).replace("urn:partner:dictionary:", "urn:elsewhere:"))
        _, forms = bundle_to_forms(bundle)
        self.assertEqual(forms["treatment"][0]["line_type"], "surgery")
        self.assertEqual(forms["treatment"][1]["chemo_agents"], ["cisplatin", "etoposide"])
        self.assertEqual(
            forms["follow_up"],
            [{"event_type": "response_assessment", "event_date": "2024-09-01", "disease_status": "no_evidence"}],
        )

    def test_a_condition_without_subject_is_not_valid_fhir(self) -> None:
        del resources(self.bundle, "Condition")[0]["subject"]
        url = self.bundle["entry"][1]["fullUrl"]
        with self.assertRaisesRegex(ValueError, rf"entry\[1\]\.resource\.subject \(Condition {url}\): Field required"):
            bundle_to_forms(self.bundle)

    def test_a_misspelt_resource_type_is_not_valid_fhir(self) -> None:
        self.bundle["entry"][1]["resource"]["resourceType"] = "Conditon"
        url = self.bundle["entry"][1]["fullUrl"]
        with self.assertRaisesRegex(
            ValueError, rf"entry\[1\]\.resource \({url}\): 'Conditon' is not a FHIR R4 resource"
        ):
            bundle_to_forms(self.bundle)

    def test_what_is_not_a_bundle_is_refused(self) -> None:
        for wrong in ([], {"resourceType": "Patient"}, {"resourceType": "Bundle", "type": "colection"}):
            with self.assertRaises(ValueError):
                bundle_to_forms(wrong)  # type: ignore[arg-type]

    def test_a_patient_without_pseudonym_is_refused(self) -> None:
        patient = resources(self.bundle, "Patient")[0]
        patient["identifier"] = [{"system": "http://hospital.example/mrn", "value": "12345"}]
        patient["name"] = [{"family": "Rossi", "given": ["Giulia"]}]
        with self.assertRaisesRegex(BundleError, "never receives names"):
            bundle_to_forms(self.bundle)


class ImportTests(FhirTestCase):
    def test_an_imported_bundle_is_a_case_with_the_same_diagnosis(self) -> None:
        case = import_bundle(self.bundle, centre=self.milano, user=self.nc_italy)
        self.assertEqual((case.centre, case.status, case.external_id), (self.milano, "draft", str(self.giulia.pk)))
        self.assertEqual(case.patient, self.giulia.patient)
        self.assertEqual((case.morphology, case.topography, case.iccc_extended), ("8370/3", "C74.0", "093"))
        imported = current_forms(self.dictionary, case)
        self.assertEqual(imported["diagnosis"], current_forms(self.dictionary, self.giulia)["diagnosis"])
        self.assertEqual(imported, current_forms(self.dictionary, self.giulia))

    def test_the_same_bundle_is_not_imported_twice_at_a_centre(self) -> None:
        import_bundle(self.bundle, centre=self.milano)
        with self.assertRaisesRegex(BundleError, "imported before"):
            import_bundle(self.bundle, centre=self.milano)
        self.assertEqual(TumourCase.objects.filter(centre=self.milano, external_id=str(self.giulia.pk)).count(), 1)

    def test_an_invalid_morphology_is_reported_on_its_field(self) -> None:
        bundle = copy.deepcopy(self.bundle)
        condition = resources(bundle, "Condition")[0]
        histology = next(e for e in condition["extension"] if e["url"] == MCODE + "mcode-histology-morphology-behavior")
        histology["valueCodeableConcept"]["coding"][0]["code"] = "8370/7"
        with self.assertRaises(CaseInvalid) as raised:
            import_bundle(bundle, centre=self.paris)
        self.assertIn(("diagnosis", "morphology"), [(e.form, e.field) for e in raised.exception.errors])
        self.assertIn("diagnosis.morphology", str(raised.exception))
        self.assertFalse(TumourCase.objects.filter(centre=self.paris).exists())


class ImportCommandTests(FhirTestCase):
    def test_partner_import_fhir_registers_the_bundle_and_refuses_a_second_time(self) -> None:
        import io
        import json
        import tempfile
        from pathlib import Path

        from django.core.management import CommandError, call_command

        path = Path(tempfile.mkdtemp()) / "bundle.json"
        path.write_text(json.dumps(self.bundle))
        out = io.StringIO()
        call_command("import", "fhir", str(path), "--centre", "it-mi", stdout=out)
        self.assertRegex(out.getvalue(), rf"bundle\.json: case \d+ registered at IT-MI \({self.giulia.pk}\)")
        with self.assertRaisesRegex(CommandError, "nothing imported: .*imported before"):
            call_command("import", "fhir", str(path), "--centre", "IT-MI", stdout=io.StringIO())
        path.write_text("{not json")
        with self.assertRaisesRegex(CommandError, "not a JSON file"):
            call_command("import", "fhir", str(path), "--centre", "IT-MI")
