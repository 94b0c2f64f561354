"""Finding the same child registered twice, and the European coordinator's review of the pair."""

from django.core.management import call_command
from django.urls import reverse

from partner.cases.frames import case_frames
from partner.cases.models import Patient
from partner.linkage.models import CandidatePair, Decision, LinkageKey
from partner.linkage.services import link_run
from partner.testing import RegistryTestCase


class LinkageTests(RegistryTestCase):
    def setUp(self):
        # Referred from Padova to Paris: registered twice, the family name mistyped the second time.
        self.first = self.register(self.padova, given="Giulia", family="Rossetti", born="2012-05-04")
        self.second = self.register(self.paris, given="Giulia", family="Rosetti", born="2012-05-04")
        self.other = self.register(self.milano, given="Tommaso", family="Bianchi", born="2009-11-30")

    def _pair(self):
        return CandidatePair.objects.get()

    def test_registration_keeps_an_encoding_and_never_the_names(self):
        self.assertEqual(LinkageKey.objects.count(), 3)
        stored = repr(list(LinkageKey.objects.values_list("encoding", flat=True)))
        self.assertNotIn("Rossetti", stored)

    def test_link_run_finds_the_pair_across_countries_once(self):
        result = link_run()
        self.assertEqual((result.compared, result.new_pairs), (3, 1))
        pair = self._pair()
        self.assertEqual({pair.left_id, pair.right_id}, {self.first.patient_id, self.second.patient_id})
        self.assertGreater(pair.similarity, 0.8)
        again = link_run()
        self.assertEqual((again.compared, again.new_pairs), (0, 0))
        self.assertEqual(link_run(everything=True).new_pairs, 0)
        self.assertEqual(CandidatePair.objects.count(), 1)

    def test_children_with_no_part_of_the_date_of_birth_in_common_are_left_out_only_when_blocked(self):
        # The same long names, born on dates that share no part.
        born = {"2012-05-04": None, "2014-08-19": None}
        for date in born:
            born[date] = self.register(
                self.padova, given="Maria Alessandra", family="Dalla Costa-Bevilacqua", born=date
            ).patient_id
        ids = set(born.values())
        link_run(threshold=0.5, blocked=True)
        self.assertFalse(CandidatePair.objects.filter(left_id__in=ids, right_id__in=ids).exists())
        self.assertTrue(CandidatePair.objects.filter(left_id=self.first.patient_id).exists())
        link_run(threshold=0.5, everything=True)
        pair = CandidatePair.objects.get(left_id__in=ids, right_id__in=ids)
        self.assertGreater(pair.similarity, 0.6)

    def test_the_command_reports_what_it_found(self):
        import io

        out = io.StringIO()
        call_command("link", "run", stdout=out)
        self.assertIn("1 new", out.getvalue())

    def test_same_child_counts_once_and_can_be_undone(self):
        link_run()
        pair = self._pair()
        self.sign_in(self.client, self.european)
        url = reverse("linkage:pair", args=[pair.pk])
        response = self.client.get(url)
        self.assertContains(response, "2012-05")  # birth year and month only
        self.assertNotContains(response, "2012-05-04")
        self.client.post(url, {"decision": "same", "reason": "the two centres confirmed the referral"})
        first, second = Patient.objects.get(pk=pair.left_id), Patient.objects.get(pk=pair.right_id)
        self.assertEqual((first.registry_identity, second.registry_identity), (first.pk, first.pk))
        frame = case_frames(self.european).cases
        self.assertEqual(frame["child_id"].nunique(), 2)  # three pseudonyms, two children
        self.assertEqual(len(frame), 3)  # both centres keep their cases
        self.client.post(url, {"decision": "different", "reason": "twins, checked with the centre"})
        self.assertEqual(case_frames(self.european).cases["child_id"].nunique(), 3)
        self.assertIsNone(Patient.objects.get(pk=pair.left_id).registry_identity)
        decisions = list(self._pair().history.order_by("history_date").values_list("decision", "history_user"))
        self.assertEqual(decisions, [("", None), ("same", self.european.pk), ("different", self.european.pk)])

    def test_a_decision_needs_a_reason(self):
        link_run()
        self.sign_in(self.client, self.european)
        response = self.client.post(reverse("linkage:pair", args=[self._pair().pk]), {"decision": "same"})
        self.assertIn("reason", response.context["form"].errors)
        self.assertEqual(self._pair().decision, Decision.PENDING)

    def test_only_the_european_coordinator_reviews(self):
        link_run()
        for user in (self.dm_padova, self.nc_italy, self.expert, self.researcher):
            self.sign_in(self.client, user)
            self.assertEqual(self.client.get(reverse("linkage:queue")).status_code, 403, user)
            url = reverse("linkage:pair", args=[self._pair().pk])
            self.assertEqual(self.client.post(url, {"decision": "same", "reason": "x"}).status_code, 403)
        self.assertEqual(self._pair().decision, Decision.PENDING)
        self.sign_in(self.client, self.european)
        shown = f"{self._pair().similarity:.3f}"  # rounded, never cut: 0.9769 is 0.977
        self.assertContains(self.client.get(reverse("linkage:queue")), f">{shown}</a>")

    def test_the_queue_marks_the_very_likely_pairs_and_only_those(self):
        link_run(threshold=0.5)  # the typing error, and pairs of different children below 0.90
        pairs = list(CandidatePair.objects.all())
        likely = [p for p in pairs if p.similarity >= 0.9]
        self.assertEqual(len(likely), 1)
        self.assertGreater(len(pairs), 1)
        self.sign_in(self.client, self.european)
        page = self.client.get(reverse("linkage:queue")).content.decode()
        self.assertEqual(page.count("very likely"), 1)
        for pair in pairs:
            detail = self.client.get(reverse("linkage:pair", args=[pair.pk])).content.decode()
            self.assertEqual("very likely" in detail, pair.pk == likely[0].pk, pair)


class TheSimilarityShown(RegistryTestCase):
    def test_it_is_rounded_not_cut(self):
        from partner.linkage.tables import PairTable

        pair = CandidatePair(pk=1, similarity=0.97695)
        self.assertIn(">0.977</a>", str(PairTable([]).render_similarity(pair)))
