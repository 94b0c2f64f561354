"""A bad bundle is refused with an error naming the resource (its fullUrl) and the element, and changes nothing."""

from __future__ import annotations

import copy
import io
import json
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.core.management import CommandError, call_command

from partner.cases.models import FormRecord, Patient, Status, TumourCase
from partner.cases.services import CaseInvalid
from partner.cases.signals import case_changed
from partner.interop.fhir import BundleError, case_bundle, import_bundle
from partner.interop.tests.test_fhir_roundtrip import RoundTripTestCase, full_forms

DICTIONARY = "urn:partner:dictionary"


def field_entries(bundle: dict[str, Any], code: str) -> list[dict[str, Any]]:
    """The entries of the field Observations of `code` (form.field)."""
    return [
        e
        for e in bundle["entry"]
        if {"system": DICTIONARY, "code": code}.items() <= e["resource"].get("code", {}).get("coding", [{}])[0].items()
    ]


@contextmanager
def failing_after_the_records_are_written() -> Iterator[None]:
    """The last step of saving a case fails: by then its patient, case and records are written."""

    def fail(**kwargs: Any) -> None:
        raise RuntimeError("the disk is full")

    case_changed.connect(fail, dispatch_uid="test-fail-after-saving")
    try:
        yield
    finally:
        case_changed.disconnect(dispatch_uid="test-fail-after-saving")


class BadBundleTests(RoundTripTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.acc = cls.registered("ACC-0", full_forms(cls.dictionary, "ACC", 0), Status.SUBMITTED)

    def setUp(self) -> None:
        self.bundle = json.loads(json.dumps(case_bundle(self.acc)))
        # A new child for each import, so that nothing of the bundle is in the registry already.
        patient = next(e["resource"] for e in self.bundle["entry"] if e["resource"]["resourceType"] == "Patient")
        patient["identifier"][0]["value"] = "f" * 64
        self.counts = self.count()

    def count(self) -> tuple[int, int, int]:
        return Patient.objects.count(), TumourCase.objects.count(), FormRecord.objects.count()

    def refused(self, exception: type[Exception], *patterns: str) -> Exception:
        """Import the bundle at Paris: it must raise `exception` matching every pattern, and write nothing."""
        with self.assertRaises(exception) as raised:
            import_bundle(self.bundle, centre=self.paris)
        for pattern in patterns:
            self.assertRegex(str(raised.exception), pattern)
        self.assertEqual(self.count(), self.counts)
        return raised.exception

    def test_the_bundle_imports_as_it_is(self) -> None:
        case = import_bundle(copy.deepcopy(self.bundle), centre=self.paris)
        self.assertEqual(case.records.count(), self.acc.records.count())

    def test_a_field_the_dictionary_does_not_have_is_refused(self) -> None:
        (entry,) = field_entries(self.bundle, "acc.acc_weiss_score")
        entry["resource"]["code"]["coding"][0]["code"] = "acc.acc_weis_score"
        url = re.escape(entry["fullUrl"])
        self.refused(
            BundleError, rf"^Observation {url}: code: 'acc.acc_weis_score' is not a field of the data dictionary"
        )

    def test_a_computed_field_is_refused(self) -> None:
        (entry,) = field_entries(self.bundle, "acc.acc_weiss_score")
        entry["resource"]["code"]["coding"][0]["code"] = "diagnosis.age_at_diagnosis"
        self.refused(BundleError, rf"^Observation {re.escape(entry['fullUrl'])}: code: .* computed by the registry")

    def test_a_value_of_the_wrong_type_is_refused(self) -> None:
        (entry,) = field_entries(self.bundle, "acc.acc_weiss_score")
        resource = entry["resource"]
        resource["valueString"] = str(resource.pop("valueInteger"))
        self.refused(
            BundleError,
            rf"^Observation {re.escape(entry['fullUrl'])}: valueString: acc.acc_weiss_score, a field of type integer",
            "valueInteger or valueQuantity",
        )

    def test_a_quantity_in_another_unit_is_refused(self) -> None:
        (entry,) = field_entries(self.bundle, "acc.acc_tumour_weight_g")
        entry["resource"]["valueQuantity"].update({"unit": "kg", "code": "kg"})
        self.refused(
            BundleError, rf"^Observation {re.escape(entry['fullUrl'])}: valueQuantity.code: kg, where .* in g$"
        )

    def test_a_code_of_no_choice_is_refused(self) -> None:
        (entry,) = field_entries(self.bundle, "acc.acc_capsular_invasion")
        entry["resource"]["valueCodeableConcept"] = {"coding": [{"system": "http://snomed.info/sct", "code": "1"}]}
        self.refused(BundleError, rf"^Observation {re.escape(entry['fullUrl'])}: valueCodeableConcept: no coding of")

    def test_a_value_of_a_line_must_name_its_line(self) -> None:
        entry = field_entries(self.bundle, "treatment.chemo_cycles")[0]
        entry["resource"]["focus"] = [{"reference": self.bundle["entry"][0]["fullUrl"]}]  # the Patient
        self.refused(BundleError, rf"^Observation {re.escape(entry['fullUrl'])}: focus: .*names none in the bundle")
        del entry["resource"]["focus"]
        self.refused(BundleError, rf"^Observation {re.escape(entry['fullUrl'])}: focus: ")

    def test_a_field_given_two_different_values_is_refused(self) -> None:
        (entry,) = field_entries(self.bundle, "acc.acc_weiss_score")
        twin = copy.deepcopy(entry)
        twin["fullUrl"] = "urn:uuid:00000000-0000-4000-8000-000000000001"
        twin["resource"]["id"] = "00000000-0000-4000-8000-000000000001"
        twin["resource"]["valueInteger"] = entry["resource"]["valueInteger"] - 1
        self.bundle["entry"].append(twin)
        self.refused(
            BundleError, rf"^Observation {twin['fullUrl']}: valueInteger: .* in Observation {entry['fullUrl']}"
        )

    def test_a_value_the_dictionary_refuses_names_the_resource_it_came_from(self) -> None:
        (entry,) = field_entries(self.bundle, "acc.acc_weiss_score")
        entry["resource"]["valueInteger"] = 12
        error = self.refused(
            CaseInvalid,
            rf"acc\.acc_weiss_score: 12 is above the maximum 9 \(from Observation {entry['fullUrl']}: valueInteger\)",
        )
        assert isinstance(error, CaseInvalid)
        self.assertEqual([(e.form, e.field) for e in error.errors], [("acc", "acc_weiss_score")])

    def test_a_standard_element_the_dictionary_refuses_names_its_resource_too(self) -> None:
        condition = next(e for e in self.bundle["entry"] if e["resource"]["resourceType"] == "Condition")
        condition["resource"]["onsetDateTime"] = "2001-01-01"
        self.refused(
            CaseInvalid,
            rf"diagnosis\.onset_date: 2001-01-01 is before the date of birth .*"
            rf"\(from Condition {condition['fullUrl']}: onsetDateTime\)",
        )

    def test_a_module_of_another_tumour_is_refused_by_its_resources(self) -> None:
        condition = next(e["resource"] for e in self.bundle["entry"] if e["resource"]["resourceType"] == "Condition")
        for coding in [condition["extension"][1]["valueCodeableConcept"]["coding"][0], condition["code"]["coding"][0]]:
            coding["code"] = "8720/3"  # a melanoma: the adrenocortical carcinoma module does not apply
        first = field_entries(self.bundle, "acc.acc_hormone_secretion")[0]
        self.refused(
            CaseInvalid, rf"acc\.-: this tumour module does not apply .*\(from Observation {first['fullUrl']}: "
        )

    def test_a_failure_while_saving_leaves_nothing_half_written(self) -> None:
        with failing_after_the_records_are_written(), self.assertRaisesRegex(RuntimeError, "disk is full"):
            import_bundle(self.bundle, centre=self.paris)
        self.assertEqual(self.count(), self.counts)
        self.assertFalse(Patient.objects.filter(pseudonym="f" * 64).exists())

    def test_the_command_names_the_resource_and_imports_nothing(self) -> None:
        (entry,) = field_entries(self.bundle, "acc.acc_weiss_score")
        entry["resource"]["valueInteger"] = 12
        path = Path(tempfile.mkdtemp()) / "bundle.json"
        path.write_text(json.dumps(self.bundle))
        with self.assertRaisesRegex(CommandError, rf"nothing imported: .*from Observation {entry['fullUrl']}"):
            call_command("import", "fhir", str(path), "--centre", "FR-PA", stdout=io.StringIO())
        self.assertEqual(self.count(), self.counts)
