"""A job's file (a PDF, an extract of pseudonymised rows) is removed a day after the job ended."""

from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from partner.jobs.models import Job
from partner.testing import RegistryTestCase


class FilesOfLongWork(RegistryTestCase):
    def setUp(self) -> None:
        import shutil
        import tempfile
        from pathlib import Path

        self.var = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.var, ignore_errors=True)
        moved = override_settings(VAR_DIR=self.var)
        moved.enable()
        self.addCleanup(moved.disable)

    def job(self, ended_ago: timedelta) -> Job:
        job = Job.objects.create(kind="extract", title="Extract", user=self.researcher, state=Job.State.DONE)
        job.folder.mkdir(parents=True)
        (job.folder / "output").write_bytes(b"PK rows")
        Job.objects.filter(pk=job.pk).update(
            finished=timezone.now() - ended_ago, output=str(job.folder / "output"), output_name="extract.zip"
        )
        job.refresh_from_db()
        return job

    def test_a_day_after_the_work_ended_its_file_is_gone_and_its_page_says_so(self) -> None:
        old, young = self.job(timedelta(hours=25)), self.job(timedelta(hours=1))
        out = StringIO()
        call_command("clearimports", stdout=out)
        self.assertIn("1 files of long work removed", out.getvalue())
        self.assertFalse(old.folder.exists())
        self.assertTrue((young.folder / "output").exists())
        self.sign_in(self.client, self.researcher)
        page = self.client.get(reverse("jobs:job", args=[old.pk]))
        self.assertContains(page, "extract.zip is no longer kept")
        self.assertEqual(self.client.get(reverse("jobs:download", args=[old.pk])).status_code, 404)
        self.assertEqual(self.client.get(reverse("jobs:download", args=[young.pk])).content, b"PK rows")
