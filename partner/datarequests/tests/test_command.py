"""partner datarequest list | show | approve | reject | extract: the same rules as the pages and the API."""

import io
import tempfile
from pathlib import Path

from django.core.management import CommandError, call_command

from partner.datarequests import services
from partner.datarequests.extract import row_id
from partner.datarequests.models import RequestStatus
from partner.interop.models import ExportLog

from .story import DataRequestTestCase, rows, unzip


def run(*args):
    out = io.StringIO()
    call_command("datarequest", *args, stdout=out)
    return out.getvalue()


class CommandTests(DataRequestTestCase):
    def setUp(self):
        self.root = Path(self.enterContext(tempfile.TemporaryDirectory()))

    def test_list_shows_every_request_the_submitted_ones_first(self):
        approved = self.approved()
        waiting = self.submit(user=self.other_researcher)
        lines = run("list").splitlines()
        self.assertEqual(len(lines), 2)
        self.assertTrue(lines[0].startswith(f"#{waiting.pk} "), lines)
        self.assertIn("researcher.two", lines[0])
        self.assertIn("approved", lines[1])
        self.assertEqual(run("list", "--status", "approved").splitlines(), [lines[1]])
        self.assertIn(str(approved.pk), lines[1])

    def test_show_tells_the_purpose_variables_cohort_and_history(self):
        item = self.approved()
        text = run("show", str(item.pk))
        for expected in (
            "Adjuvant mitotane and relapse",
            "Does adjuvant treatment change relapse-free survival",
            "  treatment.line_type",
            "Adrenocortical carcinoma",
            "Cases it selects today: 3",
            "ec.europe: approved — Fine.",
            "researcher: submitted",
        ):
            self.assertIn(expected, text)
        self.assertNotIn(item.salt, text)

    def test_approve_and_reject_decide_as_the_coordinator_named(self):
        first, second = self.submit(), self.submit()
        self.assertIn("is approved", run("approve", str(first.pk), "--by", "ec.europe"))
        run("reject", str(second.pk), "--by", "ec.europe", "--note", "Outside the consent.")
        first.refresh_from_db()
        second.refresh_from_db()
        self.assertEqual((first.status, first.decided_by), (RequestStatus.APPROVED, self.european))
        self.assertEqual((second.status, second.decision_note), (RequestStatus.REJECTED, "Outside the consent."))
        self.assertEqual(first.history.first().history_user, self.european)

    def test_the_command_refuses_what_the_pages_refuse(self):
        item = self.submit()
        refusals = {
            ("approve", str(item.pk), "--by", "researcher"): "Only the European coordinator",
            ("approve", str(item.pk), "--by", "nobody"): "No active user nobody",
            ("reject", str(item.pk), "--by", "ec.europe", "--note", " "): "reason",
            ("approve", "999999", "--by", "ec.europe"): "No data request #999999",
            ("extract", str(item.pk), "--out", str(self.root / "x.zip")): "only an approved request has an extract",
        }
        for args, message in refusals.items():
            with self.subTest(args=args), self.assertRaisesMessage(CommandError, message):
                run(*args)
        with self.assertRaises(CommandError):  # --note is required to reject
            run("reject", str(item.pk), "--by", "ec.europe")
        item.refresh_from_db()
        self.assertEqual(item.status, RequestStatus.SUBMITTED)
        self.assertFalse((self.root / "x.zip").exists())
        run("approve", str(item.pk), "--by", "ec.europe")
        with self.assertRaisesMessage(CommandError, "already approved"):
            run("reject", str(item.pk), "--by", "ec.europe", "--note", "No.")
        with self.assertRaisesMessage(CommandError, "is a folder"):
            run("extract", str(item.pk), "--out", str(self.root))
        self.assertFalse(ExportLog.objects.exists())

    def test_extract_writes_the_zip_and_logs_it_as_the_registrys_export(self):
        item = self.approved()
        out = self.root / "deep" / "extract.zip"
        text = run("extract", str(item.pk), "--out", str(out))
        self.assertIn("3 cases written", text)
        files = unzip(out.read_bytes())
        got = {r["row_id"] for r in rows(files["cases.csv"])}
        self.assertEqual(got, {row_id(item.salt, pk) for pk in self.acc_extracted})
        self.assertEqual([p.name for p in out.parent.iterdir()], ["extract.zip"])  # nothing half-written beside it
        log = ExportLog.objects.get()
        self.assertIsNone(log.user)
        self.assertEqual(sorted(log.case_ids), sorted(self.acc_extracted))
        self.assertEqual(log.destination, f"data request #{item.pk}: {out.resolve()}")
        item.refresh_from_db()
        self.assertEqual(item.download_count, 1)
        self.assertEqual(services.history(item)[0]["who"], "the registry (command line)")
