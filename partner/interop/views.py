"""The web import: check a file (a dry run), read the report, then import the very file that was checked.

The check and the import each run as a job (partner.interop.jobs), in the worker: the request that
starts one answers at once with the job's page, which shows the rows done and then the report.

The upload is kept in a private file under var/imports/, named by a random token; the options chosen at
the check are kept in the session under that token, so the import runs with them and nothing posted
later can change them. A token is good only in the session that uploaded the file.

An upload holds children's names: it is removed an hour after it was last used, imported or not, with
its report. The web process that writes a file sweeps the folder every few minutes while it holds
anything; every import page sweeps it too, and so does `partner clearimports` (nightly), which covers
files whose web process ended first.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from partner.jobs import services as jobs

from .forms import ImportForm, may_import

SESSION_KEY = "interop_imports"
#: Uploads (checked, never imported) and reports are removed this long after they were last written.
KEEP_SECONDS = 3600
#: How often a web process that wrote a file sweeps the folder, while it holds anything.
SWEEP_EVERY = 5 * 60
#: Checks remembered per session; older tokens are forgotten.
KEEP_TOKENS = 20


def _importer(request: HttpRequest) -> None:
    """Refuse those who may not import; for the others, every import page sweeps what is past its hour."""
    if not may_import(request.user):
        raise PermissionDenied(_("Importing cases is for data managers, clinicians and coordinators."))
    sweep()


def _folder() -> Path:
    folder = Path(settings.VAR_DIR) / "imports"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def sweep(folder: Path | None = None) -> int:
    """Remove the uploads and reports last written more than KEEP_SECONDS ago; how many were removed."""
    folder = folder or Path(settings.VAR_DIR) / "imports"
    limit = time.time() - KEEP_SECONDS
    removed = 0
    with contextlib.suppress(FileNotFoundError):  # no folder: nothing was ever uploaded
        for path in folder.iterdir():
            try:
                if path.stat().st_mtime < limit:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                pass  # removed by another request meanwhile
    return removed


_sweeper_lock = threading.Lock()
_sweeper: threading.Thread | None = None


def _keep_sweeping(folder: Path) -> None:
    """Sweep `folder` every SWEEP_EVERY seconds, in this process, until it holds nothing.

    Started by a request that wrote a file, so the file is gone about an hour later even if no one comes
    back to the import pages. Once a process, as long as there is something to sweep.
    """
    global _sweeper
    with _sweeper_lock:
        if _sweeper is None or not _sweeper.is_alive():
            _sweeper = threading.Thread(target=_sweep_while_kept, args=(folder,), name="import-sweep", daemon=True)
            _sweeper.start()


def _sweep_while_kept(folder: Path, wait: Callable[[float], None] = time.sleep) -> None:
    global _sweeper
    while True:
        wait(SWEEP_EVERY)
        sweep(folder)
        with _sweeper_lock:  # a file written meanwhile is seen here, or starts the next sweeper
            if not _holds_files(folder):
                _sweeper = None
                return


def _holds_files(folder: Path) -> bool:
    try:
        return any(folder.iterdir())
    except FileNotFoundError:
        return False


def _save(upload: Any, folder: Path) -> str:
    token = secrets.token_urlsafe(24)
    descriptor = os.open(folder / token, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    _keep_sweeping(folder)
    return token


def _options(request: HttpRequest, token: str) -> dict[str, Any]:
    options = request.session.get(SESSION_KEY, {}).get(token)
    if options is None:
        raise Http404
    return options


def _remember(request: HttpRequest, token: str, options: dict[str, Any]) -> None:
    kept = dict(request.session.get(SESSION_KEY, {}))
    kept[token] = options
    request.session[SESSION_KEY] = dict(list(kept.items())[-KEEP_TOKENS:])


def _job(request: HttpRequest, path: Path, token: str, options: dict[str, Any], *, dry_run: bool) -> HttpResponse:
    """The check or the import, queued for the worker; the browser is sent at once to its page."""
    name = options["name"]
    title = _("Check of %(name)s") % {"name": name} if dry_run else _("Import of %(name)s") % {"name": name}
    back = reverse("interop:import")
    params = {"path": str(path), "token": token, "options": options, "dry_run": dry_run, "back": back}
    return jobs.start_from(request, "import", title, params)


@login_required
def start(request: HttpRequest) -> HttpResponseBase:
    _importer(request)
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            folder = _folder()
            data = form.cleaned_data
            token = _save(data["file"], folder)
            options = {
                "name": Path(data["file"].name).name,
                "mapping": data["mapping"].pk if data["mapping"] else None,
                "mapping_name": str(data["mapping"]) if data["mapping"] else "",
                "centre": data["centre"].code if data["centre"] else "",
                "status": data["status"],
                "encoding": data["encoding"],
                "sheet": data["sheet"].strip(),
            }
            _remember(request, token, options)
            return _job(request, folder / token, token, options, dry_run=True)
    else:
        form = ImportForm(user=request.user)
    return render(request, "interop/import.html", {"form": form})


@login_required
@require_POST
def commit(request: HttpRequest, token: str) -> HttpResponseBase:
    _importer(request)
    options = _options(request, token)
    folder = _folder()
    claimed = folder / f"{token}.importing"
    try:
        # Renaming claims the file: a second click, or a second tab, finds nothing left to import.
        os.rename(folder / token, claimed)
    except FileNotFoundError:
        raise Http404 from None
    os.utime(claimed)  # its hour starts again: an import stopped half-way may be run again within it
    return _job(request, claimed, token, options, dry_run=False)


@login_required
def report(request: HttpRequest, token: str) -> HttpResponse:
    _importer(request)
    options = _options(request, token)
    try:
        text = (_folder() / f"{token}.report.csv").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise Http404 from None
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"{Path(options['name']).stem}-report.csv")
    return response
