"""A query is raised from the finding it is about, and the centre reads the field's value as it is now."""

import datetime as dt

from django.urls import reverse
from django.utils import formats, timezone

from partner.cases.models import FormRecord
from partner.quality import queries
from partner.quality.models import Finding, Query
from partner.testing import RegistryTestCase


def short(day: str) -> str:
    return formats.date_format(dt.date.fromisoformat(day), "SHORT_DATE_FORMAT")


class FindingStory(RegistryTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        # Treatment a month before the diagnosis: a typing error in a date, in treatment line 1.
        cls.early = cls.register(
            cls.padova,
            diagnosis={
                "diagnosis_date": "2024-02-10",
                "morphology": "8370/3",
                "topography": "C74.0",
                "basis_of_diagnosis": "7",
            },
            treatment=[{"line_type": "surgery", "treatment_start_date": "2024-01-10", "surgery_type": "biopsy_open"}],
        )
        cls.finding = Finding.objects.get(case=cls.early, rule="DATE-DX-TREAT")
        cls.paris_case = cls.register(
            cls.paris,
            given="Léa",
            family="Martin",
            treatment=[{"line_type": "surgery", "treatment_start_date": "2023-01-10", "surgery_type": "biopsy_open"}],
        )
        cls.paris_finding = Finding.objects.filter(case=cls.paris_case).first()

    def new(self, finding):
        return reverse("quality:query_new") + f"?finding={finding.pk}"


class RaisedFromAFindingTests(FindingStory):
    def test_the_form_is_filled_with_the_findings_field_row_current_value_and_message(self):
        self.assertEqual((self.finding.field, self.finding.row), ("treatment.treatment_start_date", 1))
        self.sign_in(self.client, self.nc_italy)
        page = self.client.get(self.new(self.finding))
        self.assertEqual(page.status_code, 200)
        self.assertEqual(page.context["case"], self.early)
        form = page.context["form"]
        self.assertEqual((form.initial["field"], form.initial["instance"]), ("treatment.treatment_start_date", 1))
        self.assertContains(page, '<input type="hidden" name="field" value="treatment.treatment_start_date"')
        self.assertContains(page, '<input type="hidden" name="instance" value="1"')
        now = page.context["now"]
        self.assertEqual((now.row, now.value), (1, short("2024-01-10")))
        self.assertContains(page, "Current value")
        self.assertContains(page, short("2024-01-10"))
        message = page.context["finding"].message
        self.assertTrue(form.initial["question"].startswith(message))
        self.assertContains(page, message)

    def test_the_query_raised_from_a_finding_keeps_it(self):
        self.sign_in(self.client, self.nc_italy)
        due = timezone.localdate() + dt.timedelta(days=14)
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                self.new(self.finding),
                {
                    "field": "treatment.treatment_start_date",
                    "instance": "1",
                    "question": "Is the start of treatment right?",
                    "due": due,
                },
            )
        query = Query.objects.get()
        self.assertRedirects(response, reverse("quality:query", args=[query.pk]))
        self.assertEqual((query.finding, query.field, query.row), (self.finding, "treatment.treatment_start_date", 1))

    def test_another_centres_finding_is_not_found(self):
        self.assertIsNotNone(self.paris_finding)
        self.sign_in(self.client, self.nc_italy)
        self.assertEqual(self.client.get(self.new(self.paris_finding)).status_code, 404)
        self.assertEqual(self.client.get(reverse("quality:query_new") + "?finding=x").status_code, 404)
        self.sign_in(self.client, self.dm_paris)
        self.assertEqual(self.client.get(self.new(self.finding)).status_code, 404)
        self.sign_in(self.client, self.dm_padova)  # in scope, but a centre does not raise queries
        self.assertEqual(self.client.get(self.new(self.finding)).status_code, 403)

    def test_the_case_page_asks_the_centre_from_the_finding(self):
        self.sign_in(self.client, self.nc_italy)
        page = self.client.get(reverse("cases:detail", args=[self.early.pk]))
        self.assertContains(page, f"{reverse('quality:query_new')}?finding={self.finding.pk}")


class NoRowZeroTests(FindingStory):
    def test_the_form_for_a_single_form_shows_no_row_zero(self):
        self.sign_in(self.client, self.nc_italy)
        for url in (
            reverse("quality:query_new") + f"?case={self.early.pk}",
            reverse("quality:query_new") + f"?case={self.early.pk}&field=diagnosis.morphology&instance=0",
        ):
            page = self.client.get(url).content.decode()
            self.assertNotIn("Row 0", page)
            self.assertNotIn('name="instance" value="0"', page)
            self.assertNotIn("0 for the form as a whole", page)
            self.assertIn("Line or event (repeating forms only)", page)

    def test_a_query_on_a_single_form_shows_no_row(self):
        query = queries.raise_query(self.early, "diagnosis.morphology", "Adenoma?", None, self.nc_italy)
        self.sign_in(self.client, self.dm_padova)
        page = self.client.get(reverse("quality:query", args=[query.pk])).content.decode()
        self.assertNotIn("row 0", page.lower())
        self.assertNotIn("#0", page)


class TheCurrentValueTests(FindingStory):
    def test_the_centre_reads_the_value_as_it_is_now_with_a_link_to_correct_it(self):
        query = queries.raise_query(self.early, "diagnosis.morphology", "Adenoma or carcinoma?", None, self.nc_italy)
        url = reverse("quality:query", args=[query.pk])
        self.sign_in(self.client, self.dm_padova)
        self.assertEqual(self.client.get(url).context["now"].value, "8370/3")
        record = FormRecord.objects.get(case=self.early, form__code="diagnosis")
        record.values = {**record.values, "morphology": "8010/3"}
        record.save()
        page = self.client.get(url)
        self.assertEqual(page.context["now"].value, "8010/3")
        self.assertContains(page, "8010/3")
        self.assertNotContains(page, "8370/3")
        self.assertContains(page, "Current value")
        edit = page.context["now"].edit_url
        self.assertTrue(edit.startswith(f"/cases/{self.early.pk}/edit/"), edit)
        self.assertTrue(edit.endswith("#id_diagnosis-morphology"), edit)
        self.assertContains(page, f'href="{edit}"')
        # The coordinator reads the value too, without the centre's link to correct it.
        self.sign_in(self.client, self.nc_italy)
        page = self.client.get(url)
        self.assertContains(page, "8010/3")
        self.assertNotContains(page, f'href="{edit}"')

    def test_a_row_of_a_repeating_form_is_read_from_its_own_record(self):
        query = queries.raise_query(
            self.early, "treatment.treatment_start_date", "Date?", None, self.nc_italy, instance=1
        )
        record = FormRecord.objects.get(case=self.early, form__code="treatment", number=1)
        record.values = {**record.values, "treatment_start_date": "2024-02-20"}
        record.save()
        self.sign_in(self.client, self.dm_padova)
        now = self.client.get(reverse("quality:query", args=[query.pk])).context["now"]
        self.assertEqual((now.row, now.value), (1, short("2024-02-20")))
        self.assertTrue(now.edit_url.endswith("#id_treatment-1-treatment_start_date"), now.edit_url)
