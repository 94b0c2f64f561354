import io

from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import TestCase, override_settings

from partner.accounts.models import Centre, Country, Membership, Role
from partner.cases.demo_reference import DEMO_USERS
from partner.cases.frames import case_frames
from partner.cases.models import FormRecord, Patient, Status, TumourCase
from partner.consult.models import Attachment, Consultation
from partner.dictionary.loader import load_bundled
from partner.linkage.models import CandidatePair, LinkageKey


def demo(*args):
    out = io.StringIO()
    call_command("demo", *args, "--force", stdout=out, stderr=io.StringIO())
    return out.getvalue()


class DemoRegistryTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        load_bundled()
        cls.output = demo("--patients", "120", "--seed", "3")

    def test_it_builds_five_countries_twenty_centres_and_a_user_per_role(self):
        self.assertEqual(Country.objects.count(), 5)
        self.assertEqual(Centre.objects.count(), 20)
        roles = set(Membership.objects.values_list("role", flat=True))
        self.assertEqual(roles, set(Role.values))
        # 120 children; about 1 in 100 registered a second time abroad, under a mistyped name.
        again = TumourCase.objects.filter(external_id__endswith="-R").count()
        self.assertEqual(TumourCase.objects.count() - again, 120)
        self.assertEqual(Patient.objects.count(), 120 + again)
        self.assertEqual(LinkageKey.objects.count(), Patient.objects.count())

    def test_the_children_registered_twice_are_found_by_the_linkage(self):
        from partner.linkage.services import link_run

        link_run()
        found = {(p.left_id, p.right_id) for p in CandidatePair.objects.all()}
        for case in TumourCase.objects.filter(external_id__endswith="-R").select_related("patient"):
            first = TumourCase.objects.get(external_id=case.external_id[:-2]).patient_id
            self.assertIn((min(first, case.patient_id), max(first, case.patient_id)), found)

    def test_the_cases_look_like_a_vrt_registry(self):
        frame = case_frames(Membership.objects.get(role=Role.EUROPEAN_COORDINATOR).user).cases
        counts = frame["entity"].value_counts()
        self.assertGreater(counts.get("THYROID_CA", 0), counts.get("CHORDOMA", 0))
        self.assertGreaterEqual(frame["entity"].nunique(), 10)
        self.assertGreater(frame["entity"].isna().sum(), 0, "some mis-sent cases that are not VRT")
        self.assertGreater((frame["patient_status"] == "dead").sum(), 0)
        self.assertEqual(set(frame["status"]), set(Status.values))
        self.assertGreater(FormRecord.objects.filter(form__code="follow_up").count(), 120)

    def test_every_case_passes_the_validator_it_was_saved_through(self):
        from partner.cases.services import current_forms, validate_case
        from partner.dictionary.loader import get_dictionary

        d = get_dictionary()
        for case in TumourCase.objects.all():
            _, errors = validate_case(d, current_forms(d, case), partial=case.status == Status.DRAFT)
            self.assertEqual([str(e) for e in errors], [], case)

    def test_the_same_seed_gives_the_same_registry(self):
        first = sorted(FormRecord.objects.filter(form__code="diagnosis").values_list("values", flat=True), key=str)
        Attachment.objects.all().delete()  # the demo consultations hold on to their cases
        Consultation.objects.all().delete()
        TumourCase.objects.all().delete()
        Patient.objects.all().delete()
        demo("--patients", "120", "--seed", "3")
        again = sorted(FormRecord.objects.filter(form__code="diagnosis").values_list("values", flat=True), key=str)
        self.assertEqual([{k: v for k, v in x.items()} for x in first], again)

    def test_if_empty_leaves_an_existing_registry_alone(self):
        out = demo("--patients", "5", "--if-empty")
        self.assertIn(f"already holds {TumourCase.objects.count()} cases", out)
        self.assertEqual(TumourCase.objects.exclude(external_id__endswith="-R").count(), 120)

    def test_it_prints_the_logins(self):
        out = io.StringIO()
        call_command("demo", "--print-logins", stdout=out)
        for username, _, _ in DEMO_USERS:
            self.assertIn(username, out.getvalue())

    @override_settings(DEBUG=False)
    def test_it_refuses_to_create_demo_users_outside_debug_mode_without_force(self):
        with self.assertRaisesMessage(CommandError, "DEBUG=true"):
            call_command("demo", "--patients", "1", stdout=io.StringIO())
