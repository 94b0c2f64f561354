"""Backup and restore of the whole registry: every table (history and logs included) and the uploaded
files, in one archive that restores on SQLite or PostgreSQL.

    write_backup(Path("partner-2026-11-27.tar.gz"))
    restore_backup(Path("partner-2026-11-27.tar.gz"))     # into a migrated, empty database

The rows are Django's own serialisation (`dumpdata`, natural keys for content types and
permissions), read inside one transaction so that no table is caught half way through someone's
save; on PostgreSQL the transaction is REPEATABLE READ, on SQLite a read transaction sees one
snapshot of the write-ahead log. The archive holds `manifest.json` (when, which database, the
migrations applied, the rows of each model, the SHA-256 of each member), `data.json` and `media/`.

A restore refuses an archive whose members do not match their digests, one made at other
migrations, and a database that already holds cases. It loads every row in one transaction; the
files are written only after the rows are in, into a folder moved into place at the end, so a
failed restore leaves the database and the media folder as they were.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

FORMAT = 1
#: Left out: rebuilt by migrate (content types, permissions) or worthless elsewhere (sessions).
EXCLUDED = {"contenttypes.contenttype", "auth.permission", "sessions.session"}


class BackupError(Exception):
    """An archive that cannot be restored here, or a backup that cannot be written; says why."""


@dataclass
class Summary:
    path: Path
    rows: int
    files: int
    models: dict[str, int]


class ExactEncoder(DjangoJSONEncoder):
    """Django's JSON encoder, but times keep their microseconds (Django's cuts them to milliseconds,
    which would reorder history rows written within one millisecond)."""

    def default(self, o: Any) -> Any:
        if isinstance(o, dt.datetime | dt.time):
            return o.isoformat()
        return super().default(o)


def _models() -> list[Any]:
    """The models to back up, each after the models its natural keys refer to (as dumpdata orders them)."""
    ordered = serializers.sort_dependencies([(config, None) for config in apps.get_app_configs()], allow_cycles=True)
    through = [m for m in apps.get_models(include_auto_created=True) if m._meta.auto_created]
    return [
        m for m in [*ordered, *through] if m._meta.label_lower not in EXCLUDED and not m._meta.proxy and m._meta.managed
    ]


def _migrations() -> list[list[str]]:
    return sorted([app, name] for app, name in MigrationRecorder(connection).applied_migrations())


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_backup(out: Path) -> Summary:
    """Write the archive to `out` (through a temporary file moved into place when complete)."""
    models = _models()
    counts: dict[str, int] = {}
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        objects = []
        for model in models:
            rows = list(model._base_manager.order_by("pk")) if model._meta.pk else list(model._base_manager.all())
            counts[model._meta.label_lower] = len(rows)
            objects.extend(rows)
        rows = serializers.serialize("python", objects, use_natural_foreign_keys=True, use_natural_primary_keys=False)
        data = json.dumps(rows, cls=ExactEncoder, ensure_ascii=False).encode("utf-8")
        migrations = _migrations()
    media = Path(settings.MEDIA_ROOT)
    files = sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "created": timezone.now().isoformat(),
        "database": connection.vendor,
        "migrations": migrations,
        "rows": counts,
        "digests": {"data.json": _digest(data)},
    }
    for path in files:
        manifest["digests"][f"media/{path.relative_to(media).as_posix()}"] = _digest(path.read_bytes())
    temporary = None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
        with open(handle, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz") as archive:
                for name, content in (
                    ("manifest.json", json.dumps(manifest, indent=2).encode()),
                    ("data.json", data),
                ):
                    info = tarfile.TarInfo(name)
                    info.size = len(content)
                    info.mtime = int(timezone.now().timestamp())
                    archive.addfile(info, io.BytesIO(content))
                for path in files:
                    archive.add(path, arcname=f"media/{path.relative_to(media).as_posix()}", recursive=False)
            # A full disk, a quota or a network file system may only say so when the data reach the disk.
            raw.flush()
            os.fsync(raw.fileno())
        Path(temporary).replace(out)
    except BaseException as error:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError):
            reason = error.strerror or str(error)
            kept = "an earlier backup there is unchanged" if out.exists() else "no file was left there"
            raise BackupError(f"{out}: cannot write the backup ({reason}); {kept}") from error
        raise
    return Summary(out, sum(counts.values()), len(files), counts)


def _read(path: Path) -> tuple[dict[str, Any], bytes, dict[str, bytes]]:
    try:
        with tarfile.open(path, "r:gz") as archive:
            members = {m.name: m for m in archive.getmembers() if m.isfile()}
            if "manifest.json" not in members or "data.json" not in members:
                raise BackupError(f"{path}: not a registry backup (no manifest.json and data.json)")
            for name in members:
                if name.startswith("/") or ".." in Path(name).parts:
                    raise BackupError(f"{path}: refuses the member {name!r}, which points outside the archive")

            def content(name: str) -> bytes:
                extracted = archive.extractfile(members[name])
                assert extracted is not None
                return extracted.read()

            manifest = json.loads(content("manifest.json"))
            data = content("data.json")
            media = {name[len("media/") :]: content(name) for name in members if name.startswith("media/")}
    except (tarfile.TarError, OSError, EOFError, json.JSONDecodeError) as error:
        raise BackupError(f"{path}: cannot be read as a backup ({error})") from error
    digests = manifest.get("digests", {})
    for name, content_bytes in [("data.json", data), *((f"media/{k}", v) for k, v in media.items())]:
        if digests.get(name) != _digest(content_bytes):
            raise BackupError(f"{path}: {name} does not match its digest in the manifest: the archive is damaged")
    missing = [name for name in digests if name.startswith("media/") and name[len("media/") :] not in media]
    if missing:
        raise BackupError(f"{path}: files listed in the manifest are missing: {', '.join(missing[:5])}")
    return manifest, data, media


def restore_backup(path: Path) -> Summary:
    """Load the archive into this (migrated, empty) registry: all rows or none, then the files."""
    from partner.cases.models import TumourCase

    manifest, data, media = _read(path)
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: backup format {manifest.get('format')}, this registry reads format {FORMAT}")
    if manifest.get("migrations") != _migrations():
        raise BackupError(
            f"{path}: made at other migrations than this database's; run `partner migrate` on a registry "
            "of the same version as the one backed up, then restore"
        )
    if TumourCase.objects.exists():
        raise BackupError("this database already holds cases: restore into a new, migrated, empty database")
    target = Path(settings.MEDIA_ROOT)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=target.parent if target.parent.exists() else None))
    try:
        for name, content in media.items():
            destination = staging / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(content)
        with transaction.atomic():
            # Saved as read, as loaddata does: a natural key is looked up once the rows it names are in.
            deferred = []
            for item in serializers.deserialize("python", json.loads(data), handle_forward_references=True):
                item.save()
                if item.deferred_fields:
                    deferred.append(item)
            for item in deferred:
                item.save_deferred_fields()
            _reset_sequences()
        if media:
            target.mkdir(parents=True, exist_ok=True)
            for staged in staging.iterdir():
                shutil.move(str(staged), target / staged.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    rows = {label: int(n) for label, n in manifest.get("rows", {}).items()}
    return Summary(path, sum(rows.values()), len(media), rows)


def _reset_sequences() -> None:
    """After rows were written with their own keys, new rows must not reuse them (PostgreSQL)."""
    from django.core.management.color import no_style

    statements = connection.ops.sequence_reset_sql(no_style(), _models())
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
