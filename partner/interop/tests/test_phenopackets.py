"""A case as a GA4GH Phenopacket v2: what each part of the case becomes, and that nothing names the child."""

import datetime as dt
import json

from google.protobuf.json_format import ParseDict
from phenopackets.schema.v2 import Phenopacket

from partner.cases.models import TumourCase
from partner.interop.phenopackets import case_phenopacket, iso_age
from partner.testing import RegistryTestCase

CREATED = dt.datetime(2026, 1, 15, 9, 30, tzinfo=dt.UTC)

DIAGNOSIS = {
    "diagnosis_date": "2024-02-10",
    "morphology": "8370/3",
    "topography": "C74.0",
    "basis_of_diagnosis": "7",
    "laterality": "left",
    "stage_system": "TNM8",
    "stage_group": "II",
    "tnm_t": "T2",
    "tnm_n": "N0",
    "tnm_m": "M0",
}

TREATMENT = [
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
        "treatment_intent": "curative",
        "treatment_response": "PR",
    },
    {
        "line_type": "radiotherapy",
        "treatment_start_date": "2024-07-01",
        "rt_technique": "photons",
        "rt_total_dose": 45,
        "rt_fractions": 25,
    },
]

STATUS = {
    "patient_status": "dead",
    "date_of_death": "2025-03-02",
    "cause_of_death": "tumour",
    "last_contact_date": "2025-03-02",
}


class PhenopacketTestCase(RegistryTestCase):
    case: TumourCase

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.case = cls.register(
            cls.padova,
            given="Ottavia",
            family="Zanardelli",
            born="2012-05-04",
            diagnosis=DIAGNOSIS,
            treatment=TREATMENT,
            status=STATUS,
        )

    def packet(self, case: TumourCase | None = None) -> dict:
        return case_phenopacket(case or self.case, created=CREATED)


class TheJsonIsAValidPhenopacket(PhenopacketTestCase):
    def test_it_parses_back_into_a_phenopacket(self) -> None:
        data = self.packet()
        message = ParseDict(data, Phenopacket())
        self.assertEqual(message.id, f"partner-case-{self.case.pk}")
        self.assertEqual(message.meta_data.phenopacket_schema_version, "2.0")
        self.assertEqual(message.meta_data.created_by, "PARTNER registry")
        self.assertEqual(data["metaData"]["created"], "2026-01-15T09:30:00Z")

    def test_the_output_is_the_same_for_the_same_created_time(self) -> None:
        first = json.dumps(self.packet(), sort_keys=False)
        second = json.dumps(case_phenopacket(self.case, self.dictionary, created=CREATED), sort_keys=False)
        self.assertEqual(first, second)

    def test_created_defaults_to_now(self) -> None:
        created = dt.datetime.fromisoformat(case_phenopacket(self.case)["metaData"]["created"])
        self.assertLess(abs(dt.datetime.now(dt.UTC) - created), dt.timedelta(minutes=1))


class TheSubjectIsPseudonymous(PhenopacketTestCase):
    def test_the_subject_is_the_pseudonym_with_birth_sex_and_death(self) -> None:
        subject = self.packet()["subject"]
        self.assertEqual(subject["id"], self.case.patient.pseudonym)
        self.assertEqual(subject["dateOfBirth"], "2012-05-04T00:00:00Z")
        self.assertEqual(subject["sex"], "FEMALE")
        vital = subject["vitalStatus"]
        self.assertEqual(vital["status"], "DECEASED")
        self.assertEqual(vital["timeOfDeath"], {"timestamp": "2025-03-02T00:00:00Z"})
        self.assertEqual(vital["causeOfDeath"], {"id": "PARTNER:cause_of_death.tumour", "label": "This tumour"})
        self.assertEqual(vital["survivalTimeInDays"], (dt.date(2025, 3, 2) - dt.date(2024, 2, 10)).days)
        self.assertEqual(subject["timeAtLastEncounter"], {"age": {"iso8601duration": "P12Y9M26D"}})

    def test_no_name_appears_anywhere(self) -> None:
        text = json.dumps(self.packet()).lower()
        for name in ("ottavia", "zanardelli"):
            self.assertNotIn(name, text)

    def test_a_living_boy_is_male_and_alive_without_a_time_of_death(self) -> None:
        case = self.register(
            self.padova,
            given="Bruno",
            family="Ferrante",
            sex="male",
            status={"patient_status": "alive", "last_contact_date": "2025-01-10"},
        )
        subject = self.packet(case)["subject"]
        self.assertEqual(subject["sex"], "MALE")
        self.assertEqual(subject["vitalStatus"], {"status": "ALIVE"})


class TheDisease(PhenopacketTestCase):
    def test_an_adrenocortical_carcinoma_is_its_orpha_term(self) -> None:
        disease = self.packet()["diseases"][0]
        self.assertEqual(disease["term"], {"id": "ORPHA:1501", "label": "Adrenocortical carcinoma"})
        self.assertEqual(disease["onset"], {"age": {"iso8601duration": "P11Y9M6D"}})

    def test_an_entity_without_an_orpha_code_is_its_icdo3_morphology(self) -> None:
        case = self.register(
            self.padova,
            given="Luca",
            family="Bianchi",
            diagnosis={
                "diagnosis_date": "2024-02-10",
                "morphology": "8720/3",
                "topography": "C44.5",
                "basis_of_diagnosis": "7",
            },
        )
        assert case.entity is not None
        self.assertIsNone(self.dictionary.entity_by_code[case.entity.code].orpha)
        term = self.packet(case)["diseases"][0]["term"]
        self.assertEqual(term["id"], "ICDO3:8720/3")

    def test_stage_tnm_site_and_laterality(self) -> None:
        disease = self.packet()["diseases"][0]
        self.assertEqual(
            disease["diseaseStage"],
            [{"id": "PARTNER:stage_group.TNM8.II", "label": "TNM 8th edition (UICC): stage II"}],
        )
        self.assertEqual(
            [t["id"] for t in disease["clinicalTnmFinding"]],
            ["PARTNER:tnm_t.T2", "PARTNER:tnm_n.N0", "PARTNER:tnm_m.M0"],
        )
        self.assertEqual(disease["primarySite"]["id"], "ICDO3:C74.0")
        self.assertEqual(disease["laterality"], {"id": "SNOMEDCT:7771000", "label": "Left"})
        self.assertNotIn("biosamples", self.packet())

    def test_pathological_tnm_goes_to_the_resected_tumour(self) -> None:
        case = self.register(
            self.padova,
            given="Marta",
            family="Esposito",
            diagnosis={**DIAGNOSIS, "tnm_basis": "p", "grade": "3"},
        )
        packet = self.packet(case)
        self.assertNotIn("clinicalTnmFinding", packet["diseases"][0])
        (sample,) = packet["biosamples"]
        self.assertEqual(sample["individualId"], case.patient.pseudonym)
        self.assertEqual(sample["histologicalDiagnosis"]["id"], "ICDO3:8370/3")
        self.assertEqual(sample["tumorGrade"]["id"], "PARTNER:grade.3")
        self.assertEqual(len(sample["pathologicalTnmFinding"]), 3)


class TheMedicalActions(PhenopacketTestCase):
    def test_one_action_per_line_and_per_drug(self) -> None:
        actions = self.packet()["medicalActions"]
        self.assertEqual(len(actions), 4)
        surgery, cisplatin, etoposide, radiotherapy = actions
        self.assertEqual(
            surgery["procedure"],
            {
                "code": {"id": "PARTNER:surgery_type.resection_primary", "label": "Resection of the primary tumour"},
                "performed": {"timestamp": "2024-02-20T00:00:00Z"},
            },
        )
        self.assertEqual(cisplatin["treatment"]["agent"], {"id": "ATC:L01XA01", "label": "Cisplatin"})
        self.assertEqual(etoposide["treatment"]["agent"], {"id": "ATC:L01CB01", "label": "Etoposide"})
        for action in actions:
            self.assertEqual(action["treatmentTarget"]["id"], "ORPHA:1501")
        self.assertEqual(cisplatin["treatmentIntent"]["id"], "SNOMEDCT:373808002")
        self.assertEqual(cisplatin["responseToTreatment"]["id"], "PARTNER:treatment_response.PR")
        self.assertNotIn("treatmentIntent", surgery)
        self.assertIn("radiationTherapy", radiotherapy)

    def test_radiotherapy_carries_dose_and_fractions(self) -> None:
        therapy = self.packet()["medicalActions"][3]["radiationTherapy"]
        self.assertEqual(therapy["modality"]["id"], "PARTNER:rt_technique.photons")
        self.assertEqual(therapy["dosage"], 45)
        self.assertEqual(therapy["fractions"], 25)


class TheResources(PhenopacketTestCase):
    def test_every_prefix_used_is_a_resource(self) -> None:
        data = self.packet()
        used: set[str] = set()

        def walk(node: object) -> None:
            if isinstance(node, dict):
                if set(node) <= {"id", "label"} and "label" in node:
                    used.add(node["id"].split(":", 1)[0])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk({k: v for k, v in data.items() if k != "metaData"})
        resources = {r["namespacePrefix"]: r for r in data["metaData"]["resources"]}
        self.assertEqual(used, set(resources))
        self.assertEqual(used, {"ORPHA", "ICDO3", "SNOMEDCT", "ATC", "PARTNER"})
        for resource in resources.values():
            self.assertEqual(set(resource), {"id", "name", "url", "version", "namespacePrefix", "iriPrefix"})
        self.assertEqual(resources["PARTNER"]["version"], str(self.dictionary.number))


def test_ages_are_completed_years_months_and_days() -> None:
    assert iso_age(dt.date(2012, 5, 4), dt.date(2024, 2, 10)) == "P11Y9M6D"
    assert iso_age(dt.date(2012, 5, 4), dt.date(2012, 5, 4)) == "P0D"
    assert iso_age(dt.date(2012, 1, 31), dt.date(2012, 3, 1)) == "P1M1D"
    assert iso_age(dt.date(2012, 5, 4), dt.date(2022, 5, 4)) == "P10Y"
