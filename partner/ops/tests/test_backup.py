"""partner backup and partner restore: a registry comes back whole, history, logs and files included,
on SQLite and on PostgreSQL; a damaged or foreign archive is refused and changes nothing."""

from __future__ import annotations

import io
import tarfile
import tempfile
from pathlib import Path

from django.apps import apps
from django.core.management import CommandError, call_command
from django.test import TransactionTestCase, override_settings

from partner.cases.models import AccessLog, TumourCase
from partner.cases.records import update_record
from partner.consult import services as consult
from partner.consult.models import Attachment, PanelMember
from partner.ops.backup import EXCLUDED, BackupError, restore_backup, write_backup
from partner.testing import RegistryStory

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def snapshot() -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table the backup holds, as plain values, keyed by model."""
    rows = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.label_lower in EXCLUDED or model._meta.proxy:
            continue
        fields = [f.attname for f in model._meta.concrete_fields if f.attname != "content_type_id"]
        rows[model._meta.label_lower] = sorted(map(tuple, model._base_manager.values_list(*fields)), key=repr)
    return rows


class BackupRoundTrip(RegistryStory, TransactionTestCase):
    def setUp(self) -> None:
        self.media = tempfile.TemporaryDirectory()
        self.addCleanup(self.media.cleanup)
        self.settings_override = override_settings(MEDIA_ROOT=self.media.name)
        self.settings_override.enable()
        self.addCleanup(self.settings_override.disable)
        self.build_story()
        from partner.accounts.models import Role

        self.clinician = self._user("clinician.padova", Role.CLINICIAN, centre=self.padova)
        self.case = self.register(self.padova, morphology="8370/3", topography="C74.0")
        record = self.case.records.get(form__code="diagnosis")
        update_record(
            dictionary=self.dictionary,
            case=self.case,
            form_code="diagnosis",
            number=record.number,
            values={**record.values, "basis_of_diagnosis": "6"},
            version=record.version,
            user=self.dm_padova,
        )
        AccessLog.objects.create(user=self.dm_padova, case=self.case, channel="web", what="detail")
        PanelMember.objects.create(user=self.expert, panel="endocrine", country=self.italy)
        consult.submit(self.case, self.clinician, question="Mitotane?", attachments=[("pathology", "report.pdf", PDF)])

    def test_a_registry_comes_back_whole_with_its_history_logs_and_files(self) -> None:
        before = snapshot()
        self.assertGreater(len(before["cases.historicalformrecord"]), 1)
        with tempfile.TemporaryDirectory() as folder:
            archive = Path(folder) / "backup.tar.gz"
            out = io.StringIO()
            call_command("backup", "--out", str(archive), stdout=out)
            self.assertIn("1 files", out.getvalue())
            call_command("flush", interactive=False, verbosity=0)
            for path in Path(self.media.name).iterdir():
                path.rename(Path(folder) / path.name) if path.is_file() else __import__("shutil").rmtree(path)
            self.assertFalse(TumourCase.objects.exists())
            call_command("restore", str(archive), stdout=io.StringIO())
            self.assertEqual(snapshot(), before)
            attachment = Attachment.objects.get()
            self.assertEqual(Path(attachment.file.path).read_bytes(), PDF)
            history = TumourCase.objects.get().records.get(form__code="diagnosis").history.order_by("history_date")
            self.assertEqual([h.history_user for h in history][-1], self.dm_padova)
            # New rows after a restore get new keys (sequences reset on PostgreSQL).
            again = self.register(self.padova, given="Anna", morphology="8370/3", topography="C74.0")
            self.assertGreater(again.pk, self.case.pk)
            with self.assertRaisesMessage(CommandError, "already holds cases"):
                call_command("restore", str(archive), stdout=io.StringIO())

    def test_a_damaged_archive_is_refused_before_anything_is_written(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            archive = Path(folder) / "backup.tar.gz"
            write_backup(archive)
            damaged = Path(folder) / "damaged.tar.gz"
            with tarfile.open(archive, "r:gz") as source, tarfile.open(damaged, "w:gz") as target:
                for member in source.getmembers():
                    content = source.extractfile(member).read()  # type: ignore[union-attr]
                    if member.name == "data.json":
                        content = content.replace(b"Mitotane?", b"Mitotane!")
                        member.size = len(content)
                    target.addfile(member, io.BytesIO(content))
            call_command("flush", interactive=False, verbosity=0)
            with self.assertRaisesMessage(BackupError, "data.json does not match its digest"):
                restore_backup(damaged)
            self.assertFalse(TumourCase.objects.exists())
            not_a_backup = Path(folder) / "x.tar.gz"
            not_a_backup.write_bytes(b"not a tar file")
            with self.assertRaisesMessage(BackupError, "cannot be read as a backup"):
                restore_backup(not_a_backup)
