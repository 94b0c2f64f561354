"""mCODE STU4's own examples (the hl7.fhir.us.mcode package in node_modules) imported as a hospital sends them.

The package's patient bundle (Jenny M, breast cancer) and a bundle assembled from the resources of
its paediatric patient (Brian L, acute lymphoblastic leukaemia). The registry takes a child only by
pseudonym, so each test gives the Patient one, as the centre's software derives it; and, where the
test is not about the missing histology, the ICD-O-3 codes a European sender adds to SNOMED CT.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import SimpleTestCase

from partner.cases.models import TumourCase
from partner.cases.services import CaseInvalid, current_forms
from partner.interop.fhir import import_bundle
from partner.interop.fhir_import import import_bundle_reported
from partner.interop.fhir_report import FINDING, LEFT_OUT, REFUSED, TAKEN, TAKEN_OTHERWISE
from partner.interop.fhir_staging import category_text, stage_text
from partner.quality.services import open_findings
from partner.testing import RegistryTestCase

EXAMPLES = Path(settings.BASE_DIR) / "node_modules" / "hl7.fhir.us.mcode" / "example"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
HISTOLOGY = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior"
SNOMED = "http://snomed.info/sct"


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"http://example.org/fhir/{resource['resourceType']}/{resource['id']}", "resource": resource}


def resource(bundle: dict[str, Any], kind: str, rid: str | None = None) -> dict[str, Any]:
    return next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == kind and (rid is None or e["resource"]["id"] == rid)
    )


def with_pseudonym(bundle: dict[str, Any], letter: str) -> dict[str, Any]:
    resource(bundle, "Patient")["identifier"].append({"system": "urn:partner:pseudonym", "value": letter * 64})
    return bundle


def in_icdo3(bundle: dict[str, Any], condition: str, morphology: str, topography: str) -> dict[str, Any]:
    """The ICD-O-3 codes a European sender gives beside SNOMED CT's."""
    found = resource(bundle, "Condition", condition)
    histology = next((e for e in found.get("extension", []) if e["url"] == HISTOLOGY), None)
    if histology is None:
        histology = {"url": HISTOLOGY, "valueCodeableConcept": {"coding": []}}
        found.setdefault("extension", []).append(histology)
    histology["valueCodeableConcept"]["coding"].append({"system": ICDO3, "code": morphology})
    found["bodySite"] = [{"coding": [{"system": ICDO3, "code": topography}]}]
    return bundle


def jenny() -> dict[str, Any]:
    """The package's patient bundle, as published but for the pseudonym."""
    return with_pseudonym(example("Bundle-mcode-patient-bundle-jenny-m.json"), "a")


def jenny_coded() -> dict[str, Any]:
    """Jenny's bundle with ICD-O-3 codes and the two radiotherapy volumes its course names."""
    bundle = in_icdo3(jenny(), "primary-cancer-condition-jenny-m", "8500/3", "C50.4")
    for name in ("chest-wall", "chest-wall-lymph-nodes"):
        bundle["entry"].append(entry(example(f"BodyStructure-jenny-m-{name}-treatment-volume.json")))
    return bundle


def brian() -> dict[str, Any]:
    """A bundle of the paediatric patient's resources, as the package publishes them one by one."""
    files = sorted(EXAMPLES.glob("*-brian-l.json"))
    entries = [entry(json.loads(f.read_text(encoding="utf-8"))) for f in files]
    return with_pseudonym({"resourceType": "Bundle", "type": "collection", "entry": entries}, "b")


def lines(report: Any, outcome: str) -> list[Any]:
    return report.of(outcome)


class McodeTestCase(RegistryTestCase):
    def forms_of(self, bundle: dict[str, Any]) -> dict[str, Any]:
        done = import_bundle_reported(bundle, centre=self.padova, user=self.dm_padova)
        self.assertIsNotNone(done.case, [line.message for line in done.report.of(REFUSED)])
        self.done = done
        return current_forms(self.dictionary, done.case)


class MissingHistologyTests(McodeTestCase):
    def test_the_package_bundle_is_refused_for_its_histology_not_its_onset_date(self) -> None:
        with self.assertRaises(CaseInvalid) as raised:
            import_bundle(jenny(), centre=self.padova)
        (morphology,) = [e for e in raised.exception.errors if e.field == "morphology"]
        self.assertIn("extension:histologyMorphologyBehavior", morphology.message)
        self.assertNotIn("onsetDateTime", morphology.message)
        self.assertFalse(TumourCase.objects.exists())

    def test_the_report_says_the_histology_is_coded_in_snomed_ct_only(self) -> None:
        done = import_bundle_reported(brian(), centre=self.padova, user=self.dm_padova)
        self.assertIsNone(done.case)
        refused = {line.field: line for line in done.report.of(REFUSED)}
        self.assertEqual(refused["diagnosis.morphology"].resource.split()[0], "Condition")
        self.assertIn("histologyMorphologyBehavior", refused["diagnosis.morphology"].element)
        left = [line for line in done.report.of(LEFT_OUT) if line.element == "extension:histologyMorphologyBehavior"]
        self.assertEqual([line.value for line in left], ["B-cell acute lymphoblastic leukemia (disorder)"])
        self.assertFalse(TumourCase.objects.exists())


class JennyTests(McodeTestCase):
    def test_snomed_coded_staging_arrives_as_the_stage_and_its_categories(self) -> None:
        diagnosis = self.forms_of(jenny_coded())["diagnosis"]
        staging = {k: diagnosis.get(k) for k in ("stage_system", "stage_group", "tnm_basis", "tnm_t", "tnm_n", "tnm_m")}
        self.assertEqual(
            staging,
            {
                "stage_system": "AJCC8",
                "stage_group": "IIB",
                "tnm_basis": "c",
                "tnm_t": "T3",
                "tnm_n": "N0",
                "tnm_m": "M0",
            },
        )

    def test_drugs_coded_by_rxnorm_arrive_and_anastrozole_is_no_chemotherapy(self) -> None:
        treatment = self.forms_of(jenny_coded())["treatment"]
        drugs = [
            (t["line_type"], t["treatment_start_date"], t.get("chemo_agents"), t.get("other_treatment"))
            for t in treatment
        ]
        self.assertIn(("chemotherapy", "2018-04-01", ["doxorubicin", "cyclophosphamide"], None), drugs)
        self.assertIn(("chemotherapy", "2018-04-12", ["paclitaxel"], None), drugs)
        self.assertIn(("other", "2018-09-30", None, "anastrozole"), drugs)
        (otherwise,) = self.done.report.of(TAKEN_OTHERWISE)
        self.assertEqual(
            (otherwise.value, otherwise.resource.split("/")[-1]),
            ("anastrozole", "cancer-related-medication-request-anastrozole-jenny-m"),
        )

    def test_the_surgery_type_comes_from_the_procedure_s_name(self) -> None:
        treatment = self.forms_of(jenny_coded())["treatment"]
        (surgery,) = [t for t in treatment if t["line_type"] == "surgery"]
        self.assertEqual(
            (surgery["surgery_type"], surgery["treatment_start_date"]), ("resection_primary", "2018-04-01")
        )

    def test_every_radiotherapy_volume_is_named_and_the_main_dose_kept(self) -> None:
        treatment = self.forms_of(jenny_coded())["treatment"]
        (course,) = [t for t in treatment if t["line_type"] == "radiotherapy"]
        self.assertEqual(
            {k: course.get(k) for k in ("rt_technique", "rt_total_dose", "rt_fractions", "rt_site")},
            {
                "rt_technique": "photons",
                "rt_total_dose": 60.0,
                "rt_fractions": 30,
                "rt_site": "Chest Wall; Chest Wall Lymph Nodes",
            },
        )
        left = {line.value: line.message for line in self.done.report.of(LEFT_OUT)}
        self.assertIn("Chest Wall Lymph Nodes: 50 Gy in 25 fractions", left)
        self.assertIn("Teleradiotherapy using electrons", left)

    def test_volumes_the_bundle_lacks_are_said_and_the_course_s_site_taken(self) -> None:
        bundle = in_icdo3(jenny(), "primary-cancer-condition-jenny-m", "8500/3", "C50.4")
        treatment = self.forms_of(bundle)["treatment"]
        (course,) = [t for t in treatment if t["line_type"] == "radiotherapy"]
        self.assertEqual(course["rt_site"], "Chest Wall Structure")
        missing = [line.value for line in self.done.report.of(LEFT_OUT) if line.message == "not in the bundle"]
        self.assertEqual(
            missing,
            [
                "BodyStructure/jenny-m-chest-wall-treatment-volume",
                "BodyStructure/jenny-m-chest-wall-lymph-nodes-treatment-volume",
            ],
        )

    def test_a_country_written_as_a_name_is_its_code(self) -> None:
        self.assertEqual(self.forms_of(jenny_coded())["registration"]["country_of_residence"], "US")

    def test_the_report_lists_each_value_what_was_left_out_and_the_findings(self) -> None:
        self.forms_of(jenny_coded())
        report = self.done.report
        taken = {line.field: (line.value, line.resource.split("/")[-1], line.element) for line in report.of(TAKEN)}
        self.assertEqual(
            taken["diagnosis.tnm_t"], ("T3", "tnm-clinical-primary-tumor-category-jenny-m", "valueCodeableConcept")
        )
        self.assertEqual(
            taken["treatment 4.surgery_type"][:2], ("resection_primary", "cancer-related-surgical-procedure-jenny-m")
        )
        left = {line.resource.split("/")[-1]: line for line in report.of(LEFT_OUT) if not line.element}
        self.assertIn("genomic-variant-jenny-m", left)
        self.assertIn("us-core-practitioner-owen-oncologist", left)
        self.assertNotIn("cancer-related-medication-request-doxorubicin-jenny-m", left)  # the second drug of a line
        identifying = [line for line in report.of(LEFT_OUT) if line.resource.endswith("cancer-patient-jenny-m")]
        self.assertEqual([line.element for line in identifying], ["name, contact, address.line"])
        found = {(f.field, f.rule) for f in open_findings(self.done.case)}
        self.assertTrue(found)
        self.assertEqual(len(report.of(FINDING)), len(found))
        self.assertEqual(report.case, self.done.case.pk)


class PaediatricPatientTests(McodeTestCase):
    def test_the_child_s_drugs_arrive_and_those_the_dictionary_lacks_are_another_treatment(self) -> None:
        forms = self.forms_of(in_icdo3(brian(), "primary-cancer-condition-brian-l", "9811/3", "C42.1"))
        self.assertEqual(
            forms["registration"], {"date_of_birth": "2021-01-01", "sex": "male", "country_of_residence": "US"}
        )
        lines_ = [(t["line_type"], t.get("chemo_agents"), t.get("other_treatment")) for t in forms["treatment"]]
        self.assertEqual(
            lines_,
            [("chemotherapy", ["vincristine", "cyclophosphamide"], None), ("other", None, "IDArubicin, predniSONE")],
        )
        self.assertEqual(forms["follow_up"][0]["disease_status"], "responding")
        otherwise = sorted(line.value for line in self.done.report.of(TAKEN_OTHERWISE))
        self.assertEqual(otherwise, ["IDArubicin", "predniSONE"])
        left = {line.resource.split()[0] for line in self.done.report.of(LEFT_OUT)}
        self.assertNotIn("MedicationAdministration", left)  # each carried out a request of the bundle


class CountryTests(McodeTestCase):
    def test_a_country_given_by_code_or_by_name_in_a_registry_language_is_its_code(self) -> None:
        for given in ("USA", "us", "Stati Uniti", "États-Unis", "Vereinigte Staaten", "Stany Zjednoczone"):
            with self.subTest(given=given):
                bundle = jenny_coded()
                resource(bundle, "Patient")["address"][0]["country"] = given
                done = import_bundle_reported(bundle, centre=self.padova)
                self.assertEqual(
                    current_forms(self.dictionary, done.case)["registration"]["country_of_residence"], "US"
                )
                TumourCase.objects.all().delete()

    def test_an_unknown_country_is_left_out_with_a_line_and_never_blocks_the_import(self) -> None:
        bundle = jenny_coded()
        resource(bundle, "Patient")["address"][0]["country"] = "Narnia"
        forms = self.forms_of(bundle)
        self.assertNotIn("country_of_residence", forms["registration"])
        (line,) = [line for line in self.done.report.of(LEFT_OUT) if line.element == "address.country"]
        self.assertEqual(line.value, "Narnia")


class StagingValueTests(SimpleTestCase):
    def test_ajcc_codes_and_snomed_displays_give_the_stage_as_the_registry_writes_it(self) -> None:
        self.assertEqual(stage_text({"system": "http://cancerstaging.org", "code": "3C"}), "IIIC")
        self.assertEqual(
            stage_text({"system": SNOMED, "display": "American Joint Committee on Cancer stage IIB (qualifier value)"}),
            "IIB",
        )
        self.assertIsNone(stage_text({"system": SNOMED, "code": "1222769001"}))
        self.assertEqual(category_text({"system": "http://cancerstaging.org", "code": "pT2a"}, "T"), "T2a")
        self.assertEqual(
            category_text(
                {"system": SNOMED, "display": "American Joint Committee on Cancer cN0 (qualifier value)"}, "N"
            ),
            "N0",
        )
        self.assertIsNone(category_text({"system": SNOMED, "display": "American Joint Committee on Cancer cN0"}, "T"))

    def test_a_pathological_category_and_an_absent_one(self) -> None:
        pt = example("Observation-tnm-pathologic-primary-tumor-category-jenny-m.json")
        pm = example("Observation-tnm-pathologic-distant-metastases-category-jenny-m.json")
        self.assertEqual(category_text(pt["valueCodeableConcept"]["coding"][0], "T"), "T3")
        self.assertIsNone(category_text(pm["valueCodeableConcept"]["coding"][0], "M"))


class PathologicalStagingTests(McodeTestCase):
    def test_pathological_categories_give_the_basis_p_and_an_absent_m_is_said(self) -> None:
        bundle = jenny_coded()
        bundle["entry"] = [e for e in bundle["entry"] if "tnm-clinical" not in e["resource"]["id"]]
        for name in ("stage-group", "primary-tumor-category", "regional-nodes-category", "distant-metastases-category"):
            bundle["entry"].append(entry(example(f"Observation-tnm-pathologic-{name}-jenny-m.json")))
        diagnosis = self.forms_of(bundle)["diagnosis"]
        self.assertEqual(
            [diagnosis.get(k) for k in ("stage_group", "tnm_basis", "tnm_t", "tnm_n", "tnm_m")],
            ["IIB", "p", "T3", "N0", None],
        )
        (absent,) = [line for line in self.done.report.of(LEFT_OUT) if "distant-metastases" in line.resource]
        self.assertIn("not-applicable", absent.message)


class UnaskedValueTests(McodeTestCase):
    def test_tnm_categories_of_a_thyroid_carcinoma_are_left_out_not_refused(self) -> None:
        bundle = jenny_coded()
        resource(bundle, "Condition")["bodySite"][0]["coding"][0]["code"] = "C73.9"
        diagnosis = self.forms_of(bundle)["diagnosis"]
        self.assertEqual(
            (diagnosis["topography"], diagnosis["stage_system"], diagnosis["stage_group"]), ("C73.9", "AJCC8", "IIB")
        )
        self.assertFalse({"tnm_basis", "tnm_t", "tnm_n", "tnm_m"} & diagnosis.keys())
        left = {line.field: line.value for line in self.done.report.of(LEFT_OUT) if line.field}
        self.assertEqual(
            left,
            {"diagnosis.tnm_basis": "c", "diagnosis.tnm_t": "T3", "diagnosis.tnm_n": "N0", "diagnosis.tnm_m": "M0"},
        )
        self.assertNotIn("diagnosis.tnm_t", [line.field for line in self.done.report.of(TAKEN)])

    def test_a_field_observation_for_a_field_not_asked_is_still_refused(self) -> None:
        bundle = jenny_coded()
        resource(bundle, "Condition")["bodySite"][0]["coding"][0]["code"] = "C73.9"
        own = "urn:partner:dictionary"
        observation = {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": own, "code": "diagnosis.tnm_t"}]},
            "subject": {"reference": "Patient/cancer-patient-jenny-m"},
            "valueCodeableConcept": {"coding": [{"system": f"{own}:diagnosis.tnm_t", "code": "T3"}]},
        }
        bundle["entry"].append({"fullUrl": "urn:uuid:0b1c1e9e-3d7b-4c8e-9d0f-1a2b3c4d5e6f", "resource": observation})
        done = import_bundle_reported(bundle, centre=self.padova)
        self.assertIsNone(done.case)
        self.assertEqual([line.field for line in done.report.of(REFUSED)], ["diagnosis.tnm_t"])
        self.assertFalse(TumourCase.objects.exists())


class ConditionStageTests(McodeTestCase):
    def test_a_condition_s_stage_is_read_when_no_observation_stages_the_tumour(self) -> None:
        bundle = jenny_coded()
        bundle["entry"] = [e for e in bundle["entry"] if not e["resource"]["id"].startswith("tnm-")]
        diagnosis = self.forms_of(bundle)["diagnosis"]
        self.assertEqual((diagnosis["stage_system"], diagnosis["stage_group"]), ("AJCC8", "IIIC"))

    def test_a_staging_observation_is_taken_before_the_condition_s_summary(self) -> None:
        self.assertEqual(self.forms_of(jenny_coded())["diagnosis"]["stage_group"], "IIB")
        (line,) = [line for line in self.done.report.of(LEFT_OUT) if line.element == "stage[0].summary"]
        self.assertEqual(line.value, "IIIC")


class CommandTests(McodeTestCase):
    def write(self, bundle: dict[str, Any]) -> Path:
        path = Path(tempfile.mkdtemp()) / "jenny.json"
        path.write_text(json.dumps(bundle))
        return path

    def test_the_command_shows_what_was_left_out_and_the_findings_and_writes_the_report(self) -> None:
        path = self.write(jenny_coded())
        out = io.StringIO()
        call_command(
            "import", "fhir", str(path), "--centre", "IT-PD", "--report", str(path.with_suffix(".csv")), stdout=out
        )
        text = out.getvalue()
        self.assertRegex(
            text,
            r"taken otherwise: 1\n  MedicationRequest \S+anastrozole-jenny-m: medicationCodeableConcept"
            r" \(anastrozole\)",
        )
        self.assertRegex(text, r"left out: \d+\n")
        self.assertIn("Chest Wall Lymph Nodes: 50 Gy in 25 fractions", text)
        case = TumourCase.objects.get()
        self.assertIn(f"quality findings: {len(open_findings(case))}\n", text)
        self.assertRegex(text, rf"jenny\.json: case {case.pk} registered at IT-PD")
        rows = list(csv.DictReader(path.with_suffix(".csv").open(encoding="utf-8")))
        self.assertEqual(list(rows[0]), ["outcome", "resource", "element", "field", "value", "severity", "message"])
        self.assertIn(
            {"field": "diagnosis.stage_group", "value": "IIB"},
            [{"field": r["field"], "value": r["value"]} for r in rows],
        )

    def test_a_refused_bundle_s_report_is_written_too_and_names_the_histology(self) -> None:
        path = self.write(jenny())
        target = path.with_suffix(".report.json")
        with self.assertRaisesRegex(
            CommandError, r"nothing imported: diagnosis\.morphology: .*histologyMorphologyBehavior"
        ):
            call_command(
                "import", "fhir", str(path), "--centre", "IT-PD", "--report", str(target), stdout=io.StringIO()
            )
        report = json.loads(target.read_text(encoding="utf-8"))
        self.assertIsNone(report["case"])
        self.assertIn("diagnosis.morphology", [line["field"] for line in report["refused"]])
        self.assertFalse(TumourCase.objects.exists())

    def test_a_copy_of_the_bundle_is_not_changed_by_the_import(self) -> None:
        bundle = jenny_coded()
        before = copy.deepcopy(bundle)
        import_bundle_reported(bundle, centre=self.padova)
        self.assertEqual(bundle, before)


def test_the_reports_csv_writes_the_bundles_own_formula_as_text():
    from partner.interop.fhir_report import LEFT_OUT, BundleReport, ReportLine

    report = BundleReport("bundle.json")
    report.lines.append(ReportLine(LEFT_OUT, "Patient p", "address.country", "", ' =HYPERLINK("x")', "", "why"))
    report.lines.append(ReportLine(LEFT_OUT, "Observation o", "valueQuantity", "", "-3", "", "why"))
    rows = report.as_csv().splitlines()
    assert rows[1].startswith('left out,Patient p,address.country,,"\' =HYPERLINK(""x"")"')
    assert rows[2].startswith("left out,Observation o,valueQuantity,,-3,")
