"""A browser's date box reads only YYYY-MM-DD: every date box of the registry writes its value so, in
every language (a date in the page's format, 04/05/2012 in Italian, shows as an empty box)."""

import datetime as dt

from django import forms
from django.test import SimpleTestCase
from django.utils import translation

from partner.cases.filtersets import CaseFilterSet
from partner.cases.forms import IdentityForm
from partner.widgets import DateBox


class DateBoxTests(SimpleTestCase):
    def test_a_date_box_writes_iso_in_every_language(self) -> None:
        for language in ("en", "it", "fr", "de", "pl"):
            with self.subTest(language=language), translation.override(language):
                html = DateBox().render("born", dt.date(2012, 5, 4))
                self.assertIn('type="date"', html)
                self.assertIn('value="2012-05-04"', html)

    def test_a_plain_date_input_would_not(self) -> None:
        with translation.override("it"):
            html = forms.DateInput(attrs={"type": "date"}).render("born", dt.date(2012, 5, 4))
        self.assertNotIn('value="2012-05-04"', html)  # why DateBox exists

    def test_the_registrys_date_boxes_are_date_boxes(self) -> None:
        self.assertIsInstance(IdentityForm().fields["date_of_birth"].widget, DateBox)
        self.assertIsInstance(CaseFilterSet.base_filters["diagnosed_after"].extra["widget"], DateBox)
