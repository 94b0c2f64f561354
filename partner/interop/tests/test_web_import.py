"""The web import: a file is checked first (nothing written), then imported as checked, all or nothing."""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any
from unittest import mock

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.http import HttpResponse
from django.test import Client, override_settings
from django.test.signals import template_rendered
from django.test.utils import ContextList
from django.urls import reverse

from partner.accounts.models import NationalGroup
from partner.cases.models import Status, TumourCase
from partner.interop import views
from partner.interop.models import ImportMapping
from partner.testing import RegistryTestCase

#: The real one: each test runs with it replaced (WebImportTestCase.setUp).
KEEP_SWEEPING = views._keep_sweeping

COLUMNS = (
    "external_id,centre,given_names,family_names,date_of_birth,sex,country_of_birth,diagnosis_date,morphology,"
    "topography,basis_of_diagnosis,patient_status,last_contact_date,consent_reuse,consent_date"
)


def row(external_id: str, centre: str = "IT-PD", *, given: str = "Giulia", diagnosed: str = "2024-02-10") -> str:
    return (
        f"{external_id},{centre},{given},Rossi,2012-05-04,female,IT,{diagnosed},8370/3,"
        "C74.0,7,alive,2024-06-01,given,2024-02-20"
    )


def read_through(response: Any) -> Any:
    """A streamed page read to its end, as a browser does, with the contexts its templates were given.

    The import page is sent as the rows are done (a progress bar, then the report), so the response
    is a stream: reading it runs the import; the contexts are gathered while it runs.
    """
    if not getattr(response, "streaming", False):
        return response
    contexts: list[Any] = []

    def grab(sender: Any, template: Any, context: Any, **kwargs: Any) -> None:
        contexts.append(context)

    template_rendered.connect(grab)
    try:
        body = b"".join(response.streaming_content)
    finally:
        template_rendered.disconnect(grab)
    page = HttpResponse(body, status=response.status_code, content_type=response["Content-Type"])
    page.context = ContextList(contexts)  # type: ignore[attr-defined]
    return page


def table(*rows: str, name: str = "trep.csv", header: str = COLUMNS, encoding: str = "utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, "\n".join([header, *rows]).encode(encoding) + b"\n", content_type="text/csv")


class WebImportTestCase(RegistryTestCase):
    def setUp(self) -> None:
        self.var = Path(tempfile.mkdtemp(prefix="partner-imports-"))
        self.addCleanup(shutil.rmtree, self.var, ignore_errors=True)
        moved = override_settings(VAR_DIR=self.var)
        moved.enable()
        self.addCleanup(moved.disable)
        # No sweeping thread left behind by a test: the ones that need it start it themselves.
        keep_sweeping = mock.patch.object(views, "_keep_sweeping")
        self.keep_sweeping = keep_sweeping.start()
        self.addCleanup(keep_sweeping.stop)

    def check(self, user: Any, upload: SimpleUploadedFile, client: Client | None = None, **given: str) -> Any:
        client = client or self.client
        self.sign_in(client, user)
        data = {"file": upload, "mapping": "", "centre": "", "status": "draft", "encoding": "utf-8", "sheet": ""}
        return client.post(reverse("interop:import"), {**data, **given}, follow=True)

    def commit(self, token: str, client: Client | None = None, **posted: str) -> Any:
        return (client or self.client).post(reverse("interop:commit", args=[token]), posted, follow=True)

    def kept_files(self) -> list[str]:
        return sorted(p.name for p in (self.var / "imports").iterdir())


class TheCheckTests(WebImportTestCase):
    def test_the_form_offers_only_the_check(self) -> None:
        self.sign_in(self.client, self.dm_padova)
        page = self.client.get(reverse("interop:import"))
        self.assertContains(page, 'enctype="multipart/form-data"')
        self.assertContains(page, "Check (dry run)")
        form = page.content.decode().split('action="/import/"')[1].split("</form>")[0]
        self.assertEqual(form.count("<button"), 1)
        for name in ("file", "mapping", "centre", "status", "encoding", "sheet"):
            self.assertContains(page, f'<label for="id_{name}">')

    def test_the_dry_run_writes_nothing_and_shows_the_report(self) -> None:
        before = TumourCase.objects.count()
        page = self.check(self.dm_padova, table(row("TREP-1"), row("TREP-2", given="Anna")))
        self.assertEqual(page.status_code, 200)
        self.assertEqual(TumourCase.objects.count(), before)
        self.assertEqual((page.context["result"]["rows"], page.context["result"]["created"]), (2, 2))
        self.assertContains(page, "dry run: nothing imported yet")
        self.assertContains(page, "Import these 2 rows")
        self.assertContains(page, f'action="{reverse("interop:commit", args=[page.context["result"]["token"]])}"')
        token = page.context["result"]["token"]
        self.assertContains(page, reverse("interop:report", args=[token]))
        self.assertIn(token, self.kept_files())

    def test_the_saved_file_is_readable_by_the_registry_only(self) -> None:
        token = self.check(self.dm_padova, table(row("TREP-1"))).context["result"]["token"]
        self.assertEqual((self.var / "imports" / token).stat().st_mode & 0o777, 0o600)
        self.assertEqual((self.var / "imports").stat().st_mode & 0o777, 0o700)

    def test_a_bad_row_is_named_by_row_and_column_and_cannot_be_imported(self) -> None:
        page = self.check(self.dm_padova, table(row("TREP-1"), row("TREP-2", diagnosed="2024-13-45")))
        self.assertEqual(TumourCase.objects.count(), 0)
        problems = page.context["result"]["problems"]
        self.assertTrue(any(r[:2] == ["3", "diagnosis_date"] for r in problems), problems)
        self.assertContains(page, "<code>2024-13-45</code>", html=True)
        self.assertNotContains(page, 'action="/import/', msg_prefix="no import button")
        self.assertContains(page, "Correct the rows above")
        token = page.context["result"]["token"]
        self.assertEqual(self.kept_files(), [f"{token}.report.csv"])
        self.assertEqual(self.commit(token).status_code, 404)

    def test_a_data_manager_in_padova_cannot_import_into_paris(self) -> None:
        page = self.check(self.dm_padova, table(row("TREP-1"), row("FR-1", "FR-PA")))
        refused = [r for r in page.context["result"]["problems"] if r[0] == "3"]
        self.assertEqual([r[1:3] for r in refused], [["centre", "FR-PA"]])
        self.assertIn("no centre with this code that you may import into", refused[0][5])
        self.assertNotContains(page, 'action="/import/')

    def test_the_default_centre_offers_only_the_centres_one_may_import_into(self) -> None:
        self.sign_in(self.client, self.dm_padova)
        choices = list(self.client.get(reverse("interop:import")).context["form"].fields["centre"].queryset)
        self.assertEqual(choices, [self.padova])
        self.sign_in(self.client, self.nc_italy)
        choices = list(self.client.get(reverse("interop:import")).context["form"].fields["centre"].queryset)
        self.assertEqual(choices, [self.milano, self.padova])
        page = self.check(self.dm_padova, table(row("TREP-1", "")), centre="FR-PA")
        self.assertIn("centre", page.context["form"].errors)

    def test_a_text_file_that_is_binary_is_refused_on_the_form(self) -> None:
        binary = SimpleUploadedFile("cases.txt", bytes(range(256)) * 4)
        page = self.check(self.dm_padova, binary)
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, "cases.txt, line 2: not utf-8 text (byte 0x80)")
        self.assertContains(page, "Nothing was imported.")
        self.assertContains(page, f'href="{reverse("interop:import")}"')  # back to the form
        self.assertEqual(self.kept_files(), [])

    def test_latin_1_text_is_refused_as_utf_8_and_read_when_its_encoding_is_given(self) -> None:
        page = self.check(self.dm_padova, table(row("TREP-1", given="Zoé"), name="trep.txt", encoding="latin-1"))
        self.assertContains(page, "trep.txt, line 2: not utf-8 text (byte 0xe9)")
        self.assertEqual(page.context["job"].state, "failed")
        upload = table(row("TREP-1", given="Zoé"), name="trep.txt", encoding="latin-1")
        page = self.check(self.dm_padova, upload, encoding="latin-1")
        self.assertEqual((page.context["result"]["created"], page.context["result"]["error_count"]), (1, 0))

    def test_a_workbook_is_read_from_the_sheet_given(self) -> None:
        from openpyxl import Workbook

        book = Workbook()
        book.active.title = "Notes"
        sheet = book.create_sheet("Cases")
        for line in (COLUMNS, row("TREP-1")):
            sheet.append(line.split(","))
        data = io.BytesIO()
        book.save(data)
        page = self.check(self.dm_padova, SimpleUploadedFile("trep.xlsx", data.getvalue()), sheet="Cases")
        self.assertEqual((page.context["result"]["created"], page.context["result"]["error_count"]), (1, 0))
        page = self.check(self.dm_padova, SimpleUploadedFile("trep.xlsx", data.getvalue()), sheet="Casi")
        self.assertContains(page, "trep.xlsx: no sheet &#x27;Casi&#x27; (sheets: Notes, Cases)")
        book["Notes"].append(["Sent on 3 May: the cases are on the next sheet"])
        data = io.BytesIO()
        book.save(data)
        page = self.check(self.dm_padova, SimpleUploadedFile("trep.xlsx", data.getvalue()))
        self.assertContains(page, "trep.xlsx: 2 sheets hold rows (&#x27;Notes&#x27;, &#x27;Cases&#x27;)")
        self.assertContains(page, "the Sheet box of the import page")
        self.assertEqual(page.context["job"].state, "failed")

    def test_a_file_of_another_kind_or_too_large_is_refused(self) -> None:
        page = self.check(self.dm_padova, SimpleUploadedFile("cases.pdf", b"%PDF-1.7"))
        self.assertContains(page, "cases.pdf: not a file this registry reads")
        with mock.patch("partner.interop.forms.MAX_UPLOAD", 100):
            page = self.check(self.dm_padova, table(row("TREP-1")))
        self.assertContains(page, "at most 100\xa0bytes are taken here")
        self.assertFalse((self.var / "imports").exists())

    def test_the_report_downloads_as_csv(self) -> None:
        token = self.check(self.dm_padova, table(row("TREP-1"), row("FR-1", "FR-PA"))).context["result"]["token"]
        response = self.client.get(reverse("interop:report", args=[token]))
        self.assertEqual(response["Content-Type"], "text/csv; charset=utf-8")
        self.assertEqual(response["Content-Disposition"], 'attachment; filename="trep-report.csv"')
        lines = response.content.decode().splitlines()
        self.assertEqual(lines[0], "row,column,value,severity,rule,message")
        self.assertTrue(lines[1].startswith("3,centre,FR-PA,error,import,"))


class TheImportTests(WebImportTestCase):
    def test_the_import_creates_the_checked_cases_and_removes_the_file(self) -> None:
        token = self.check(self.dm_padova, table(row("TREP-1"), row("TREP-2", given="Anna"))).context["result"]["token"]
        page = self.commit(token)
        self.assertEqual(page.status_code, 200)
        self.assertTrue(page.context["result"]["committed"])
        self.assertContains(page, "Import done")
        self.assertEqual(TumourCase.objects.filter(centre=self.padova).count(), 2)
        self.assertEqual(self.kept_files(), [f"{token}.report.csv"])
        self.assertNotContains(page, f'action="{reverse("interop:commit", args=[token])}"')
        self.assertEqual(self.commit(token).status_code, 404)  # a second click imports nothing
        self.assertEqual(TumourCase.objects.count(), 2)

    def test_the_import_runs_with_the_options_of_the_check_not_with_posted_ones(self) -> None:
        token = self.check(self.dm_padova, table(row("TREP-1", "")), centre="IT-PD").context["result"]["token"]
        self.commit(token, status="submitted", centre="IT-MI", encoding="latin-1")
        case = TumourCase.objects.get()
        self.assertEqual((case.centre, case.status, case.external_id), (self.padova, Status.DRAFT, "TREP-1"))

    def test_a_token_of_another_session_is_not_found(self) -> None:
        token = self.check(self.dm_padova, table(row("TREP-1"))).context["result"]["token"]
        other = Client()
        self.sign_in(other, self.dm_padova)
        self.assertEqual(self.commit(token, client=other).status_code, 404)
        self.assertEqual(other.get(reverse("interop:report", args=[token])).status_code, 404)
        self.assertEqual(TumourCase.objects.count(), 0)
        self.assertIn(token, self.kept_files())

    def test_a_mapping_of_the_group_is_offered_and_used(self) -> None:
        trep = NationalGroup.objects.create(country=self.italy, acronym="TREP", name="Tumori Rari in Età Pediatrica")
        saved = ImportMapping.objects.create(
            group=trep,
            name="trep-2024",
            definition={"columns": {"ID_PAZIENTE": "external_id"}, "values": {"sex": {"f": "female"}}, "dates": None},
        )
        upload = table(row("TREP-9").replace(",female,", ",F,"), header=COLUMNS.replace("external_id", "ID_PAZIENTE"))
        page = self.check(self.nc_italy, upload, mapping=str(saved.pk))
        self.assertEqual((page.context["result"]["created"], page.context["result"]["error_count"]), (1, 0))
        self.commit(page.context["result"]["token"])
        self.assertEqual(TumourCase.objects.get().external_id, "TREP-9")
        self.sign_in(self.client, self.dm_paris)
        offered = self.client.get(reverse("interop:import")).context["form"].fields["mapping"].queryset
        self.assertEqual(list(offered), [])
        page = self.check(self.dm_paris, table(row("FR-1", "FR-PA")), mapping=str(saved.pk))
        self.assertIn("mapping", page.context["form"].errors)
        self.sign_in(self.client, self.european)
        offered = self.client.get(reverse("interop:import")).context["form"].fields["mapping"].queryset
        self.assertEqual(list(offered), [saved])

    def test_a_mapping_removed_between_the_check_and_the_import_stops_the_import(self) -> None:
        trep = NationalGroup.objects.create(country=self.italy, acronym="TREP", name="Tumori Rari in Età Pediatrica")
        saved = ImportMapping.objects.create(group=trep, name="trep-2024", definition={"columns": {}})
        token = self.check(self.dm_padova, table(row("TREP-1")), mapping=str(saved.pk)).context["result"]["token"]
        saved.delete()
        page = self.commit(token)
        self.assertContains(page, "The mapping chosen at the check is no longer available")
        self.assertContains(page, f'href="{reverse("interop:import")}"')  # back to the form, to check again
        self.assertEqual(TumourCase.objects.count(), 0)
        self.assertNotIn(token, self.kept_files())

    def test_a_check_never_imported_is_removed_a_day_later(self) -> None:
        token = self.check(self.dm_padova, table(row("TREP-1"))).context["result"]["token"]
        age(self.var / "imports", seconds=2 * 24 * 3600)
        later = self.check(self.dm_padova, table(row("TREP-2"))).context["result"]["token"]
        self.assertEqual(self.kept_files(), sorted([later, f"{later}.report.csv"]))
        self.assertEqual(self.commit(token).status_code, 404)


def age(folder: Path, *, seconds: float, names: list[str] | None = None) -> None:
    """Make the files in `folder` (or those named) look last written `seconds` ago."""
    then = time.time() - seconds
    for name in names if names is not None else [p.name for p in folder.iterdir()]:
        os.utime(folder / name, (then, then))


class SweepTests(WebImportTestCase):
    """An upload holds children's names: checked but never imported, it is gone about an hour later."""

    def setUp(self) -> None:
        super().setUp()
        self.older = self.check(self.dm_padova, table(row("TREP-1"))).context["result"]["token"]
        self.younger = self.check(self.dm_padova, table(row("TREP-2"))).context["result"]["token"]
        self.folder = self.var / "imports"
        age(self.folder, seconds=61 * 60, names=[self.older, f"{self.older}.report.csv"])
        age(self.folder, seconds=59 * 60, names=[self.younger, f"{self.younger}.report.csv"])

    def test_the_sweep_removes_an_upload_and_its_report_an_hour_old_and_keeps_a_younger_one(self) -> None:
        self.assertEqual(views.sweep(), 2)
        self.assertEqual(self.kept_files(), sorted([self.younger, f"{self.younger}.report.csv"]))
        self.assertEqual(self.commit(self.older).status_code, 404)
        self.assertTrue(self.commit(self.younger).context["result"]["committed"])

    def test_any_import_page_sweeps(self) -> None:
        self.client.get(reverse("interop:import"))
        self.assertEqual(self.kept_files(), sorted([self.younger, f"{self.younger}.report.csv"]))

    def test_the_nightly_command_sweeps(self) -> None:
        out = io.StringIO()
        call_command("clearimports", stdout=out)
        self.assertEqual(out.getvalue(), "2 import files removed\n0 files of long work removed\n")
        self.assertEqual(self.kept_files(), sorted([self.younger, f"{self.younger}.report.csv"]))

    def test_a_timer_runs_the_command_every_ten_minutes(self) -> None:
        deploy = Path(settings.BASE_DIR) / "deploy"
        service = (deploy / "partner-sweep.service").read_text()
        self.assertIn("ExecStart=/opt/partner/.venv/bin/partner clearimports\n", service)
        self.assertIn("OnCalendar=*:0/10\n", (deploy / "partner-sweep.timer").read_text())

    def test_each_file_written_has_the_web_process_sweep_until_nothing_is_left(self) -> None:
        self.assertEqual(self.keep_sweeping.call_args_list, [mock.call(self.folder)] * 2)  # two uploads
        waits: list[float] = []

        def wait(seconds: float) -> None:
            waits.append(seconds)
            if len(waits) == 2:  # the younger check's hour is up by the second round
                age(self.folder, seconds=61 * 60)

        views._sweep_while_kept(self.folder, wait=wait)
        self.assertEqual(waits, [views.SWEEP_EVERY, views.SWEEP_EVERY])
        self.assertEqual(self.kept_files(), [])

    def test_a_process_starts_one_sweeping_thread_at_a_time(self) -> None:
        self.addCleanup(setattr, views, "_sweeper", None)
        with mock.patch.object(views.threading, "Thread") as thread:
            thread.return_value.is_alive.return_value = True
            KEEP_SWEEPING(self.folder)
            KEEP_SWEEPING(self.folder)
            self.assertEqual(thread.call_count, 1)
            self.assertEqual(thread.call_args.kwargs["args"], (self.folder,))
            thread.return_value.start.assert_called_once_with()
            thread.return_value.is_alive.return_value = False  # it ended (its folder was empty, or it failed)
            KEEP_SWEEPING(self.folder)
            self.assertEqual(thread.call_count, 2)


class WhoMayImportTests(WebImportTestCase):
    def test_experts_and_researchers_may_not_import(self) -> None:
        for user in (self.expert, self.researcher):
            self.sign_in(self.client, user)
            self.assertEqual(self.client.get(reverse("interop:import")).status_code, 403)
            self.assertEqual(self.check(user, table(row("TREP-1"))).status_code, 403)
        self.assertEqual(TumourCase.objects.count(), 0)

    def test_a_visitor_is_sent_to_log_in(self) -> None:
        response = self.client.get(reverse("interop:import"))
        self.assertRedirects(response, "/accounts/login/?next=/import/", fetch_redirect_response=False)

    def test_a_european_coordinator_may_import_into_any_centre(self) -> None:
        page = self.check(self.european, table(row("TREP-1"), row("FR-1", "FR-PA")))
        self.assertEqual((page.context["result"]["created"], page.context["result"]["error_count"]), (2, 0))


class ImportJobTests(WebImportTestCase):
    def test_the_request_answers_at_once_and_the_worker_does_the_rows(self) -> None:
        from django_tasks_db.models import DBTaskResult

        from partner.jobs.context import read_progress
        from partner.jobs.models import Job
        from partner.jobs.tasks import run_job

        self.sign_in(self.client, self.dm_padova)
        upload = table(*(row(f"TREP-{i}", given=f"Child{i}") for i in range(5)))
        data = {"file": upload, "mapping": "", "centre": "", "status": "draft", "encoding": "utf-8", "sheet": ""}
        with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}):
            response = self.client.post(reverse("interop:import"), data)
            job = Job.objects.get()
            self.assertRedirects(response, reverse("jobs:job", args=[job.pk]), fetch_redirect_response=False)
            self.assertEqual(job.state, Job.State.QUEUED)
            self.assertEqual(DBTaskResult.objects.get().args_kwargs["args"], [str(job.pk)])
            page = self.client.get(response["Location"])
            self.assertContains(page, "waiting for the worker")
            self.assertContains(page, f'hx-get="{reverse("jobs:job", args=[job.pk])}" hx-trigger="every 1s"')
            run_job.call(str(job.pk))  # as the worker does
        self.assertEqual({k: read_progress(job)[k] for k in ("done", "total")}, {"done": 5, "total": 5})
        page = self.client.get(response["Location"], headers={"HX-Request": "true"})
        self.assertNotContains(page, "hx-trigger")  # over: the page stops asking
        self.assertContains(page, "dry run: nothing imported yet")
        self.assertContains(page, "Import these 5 rows")

    def test_an_import_stopped_half_way_leaves_nothing_and_is_run_again_from_its_page(self) -> None:
        from partner.jobs.context import JobContext
        from partner.jobs.models import Job

        page = self.check(self.dm_padova, table(*(row(f"TREP-{i}", given=f"Child{i}") for i in range(4))))
        token = page.context["result"]["token"]
        before = TumourCase.objects.count()

        class Killed(BaseException):
            """What the worker's process ending looks like from inside: nothing after it runs."""

        def advance(context: JobContext, rows: int = 1) -> None:
            if context._state["done"] == 2:
                raise Killed
            context._state["done"] += rows

        with mock.patch.object(JobContext, "advance", advance), self.assertLogs("django_tasks", "ERROR"):
            self.commit(token)
        job = Job.objects.get(title="Import of trep.csv")
        self.assertEqual((job.state, TumourCase.objects.count()), (Job.State.RUNNING, before))
        self.assertIn(f"{token}.importing", self.kept_files())
        page = self.client.get(reverse("jobs:job", args=[job.pk]))
        self.assertNotContains(page, "Run it again")  # its worker may still be at it
        with override_settings(PARTNER_JOB_STALLED_SECONDS=-1):
            page = self.client.get(reverse("jobs:job", args=[job.pk]))
            self.assertContains(page, "The worker stopped while this work ran")
            done = self.client.post(reverse("jobs:again", args=[job.pk]), follow=True)
        self.assertTrue(done.context["result"]["committed"])
        self.assertEqual(TumourCase.objects.count(), before + 4)
        job.refresh_from_db()
        self.assertEqual((job.state, job.attempts), (Job.State.DONE, 2))

    def test_only_the_person_who_started_an_import_sees_its_page(self) -> None:
        page = self.check(self.dm_padova, table(row("TREP-1")))
        job = page.context["job"]
        other = Client()
        self.sign_in(other, self.nc_italy)
        self.assertEqual(other.get(reverse("jobs:job", args=[job.pk])).status_code, 404)
        self.assertEqual(other.post(reverse("jobs:again", args=[job.pk])).status_code, 404)
