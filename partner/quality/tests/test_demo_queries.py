"""The demo registry's clarification queries: one per open finding drawn, dated in the past, some answered."""

from django.utils import timezone

from partner.quality.demo import ROUTINE, demo_queries
from partner.quality.models import Finding, Query, QueryStatus
from partner.testing import RegistryTestCase


class DemoQueryTests(RegistryTestCase):
    def test_queries_follow_the_open_findings_and_their_dates_make_sense(self):
        for i, born in enumerate(("2020-03-01", "2021-01-05", "2019-07-07")):
            self.register(self.padova, given=f"Child{i}", born=born, morphology="8260/3", topography="C73.9")
        self.register(self.paris, given="Léa", born="2020-02-02", morphology="8260/3", topography="C73.9")
        findings = Finding.objects.filter(status="open")
        self.assertEqual(findings.count(), 4)
        # One per finding, and a routine one on each case of the two centres with a data manager.
        self.assertEqual(demo_queries(seed=3, share=1.0), 8)
        queries = Query.objects.select_related("finding", "raised_by")
        on_findings = [q for q in queries if q.finding_id]
        self.assertEqual({q.finding_id for q in on_findings}, set(findings.values_list("pk", flat=True)))
        routine = {field for field, _question in ROUTINE}
        self.assertTrue(all(q.field in routine for q in queries if not q.finding_id))
        now = timezone.now()
        for query in queries:
            if query.finding_id:
                self.assertEqual((query.field, query.row), (query.finding.field, query.finding.row))
            self.assertLess(query.raised_at, now)
            expected = self.nc_italy if query.case.centre.country_id == self.italy.pk else self.european
            self.assertEqual(query.raised_by, expected)
            history = list(query.history.order_by("history_id"))
            self.assertEqual(history[0].history_date, query.raised_at)
            self.assertEqual([h.history_date for h in history], sorted(h.history_date for h in history))
            if query.status == QueryStatus.CLOSED:
                self.assertEqual(history[-1].history_user, query.raised_by)  # the coordinator closes
            if query.status != QueryStatus.OPEN:
                self.assertGreater(query.answered_at, query.raised_at)
                self.assertEqual(query.messages.count(), 2)
                self.assertEqual(query.messages.last().written, query.answered_at)
            else:
                self.assertIsNone(query.answered_at)
