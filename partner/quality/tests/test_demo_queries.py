"""The demo registry's clarification queries: one per open finding drawn, dated in the past, some answered."""

from django.utils import timezone

from partner.quality.demo import demo_queries
from partner.quality.models import Finding, Query, QueryStatus
from partner.testing import RegistryTestCase


class DemoQueryTests(RegistryTestCase):
    def test_queries_follow_the_open_findings_and_their_dates_make_sense(self):
        for i, born in enumerate(("2020-03-01", "2021-01-05", "2019-07-07")):
            self.register(self.padova, given=f"Child{i}", born=born, morphology="8260/3", topography="C73.9")
        self.register(self.paris, given="Léa", born="2020-02-02", morphology="8260/3", topography="C73.9")
        findings = Finding.objects.filter(status="open")
        self.assertEqual(findings.count(), 4)
        self.assertEqual(demo_queries(seed=3, share=1.0), 4)
        queries = Query.objects.select_related("finding", "raised_by")
        self.assertEqual({q.finding_id for q in queries}, set(findings.values_list("pk", flat=True)))
        now = timezone.now()
        for query in queries:
            self.assertEqual((query.field, query.row), (query.finding.field, query.finding.row))
            self.assertLess(query.raised_at, now)
            expected = self.nc_italy if query.case.centre.country_id == self.italy.pk else self.european
            self.assertEqual(query.raised_by, expected)
            if query.status != QueryStatus.OPEN:
                self.assertGreater(query.answered_at, query.raised_at)
                self.assertEqual(query.messages.count(), 2)
            else:
                self.assertIsNone(query.answered_at)
