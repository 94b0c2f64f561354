"""The public statistics' charts are drawn once for their counts and language, and drawn again when either changes."""

from django.test import SimpleTestCase
from django.utils import translation

from partner.website import statistics


class ChartsKeptForTheirCounts(SimpleTestCase):
    def setUp(self) -> None:
        statistics._drawn.cache_clear()

    def chart(self, shown: list[int | None]) -> str:
        return statistics._figure("Cases by year", ["2021", "2022"], shown, horizontal=False, key="year")

    def test_the_same_counts_are_drawn_once(self) -> None:
        first = self.chart([7, 9])
        self.assertEqual(self.chart([7, 9]), first)
        self.assertEqual((statistics._drawn.cache_info().misses, statistics._drawn.cache_info().hits), (1, 1))

    def test_other_counts_or_another_language_are_drawn_anew(self) -> None:
        first = self.chart([7, 9])
        self.assertNotEqual(self.chart([7, 10]), first)
        with translation.override("it"):
            italian = self.chart([7, 9])
        self.assertIn("casi", italian)
        self.assertNotIn("casi", first)
        self.assertEqual(statistics._drawn.cache_info().misses, 3)
