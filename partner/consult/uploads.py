"""Attachments are checked before they are stored: what the content is, not what its name or the
browser says. Only PDF, PNG and JPEG are taken; an image must open as one. The type read here is the
only type the file is ever served with.

The type is read from the file's first bytes by `filetype`; images are then opened by Pillow, which
refuses a file that only starts like an image.

A checked file is stored with its row inside the request's transaction, and deleted again when
that transaction does not commit.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import filetype
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from .models import Attachment, Consultation

MAX_BYTES = 20 * 1024 * 1024
#: Content type -> the extensions a name may have for it, the first being the one it is stored under.
ALLOWED = {
    "application/pdf": ("pdf",),
    "image/png": ("png",),
    "image/jpeg": ("jpg", "jpeg"),
}
NAMES = {"application/pdf": "PDF", "image/png": "PNG", "image/jpeg": "JPEG"}


@dataclass(frozen=True)
class Upload:
    name: str
    content: bytes
    content_type: str
    extension: str


def clean_name(name: str) -> str:
    """The file's own name, without folders or control characters, at most 200 characters."""
    base = PurePath(name.replace("\\", "/")).name
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C")
    base = re.sub(r"\s+", " ", base).strip(" .")
    return base[-200:] or "attachment"


def checked_upload(name: str, content: bytes) -> Upload:
    """The upload with the type its content shows, or a ValidationError that names the file."""
    label = clean_name(name)
    if not content:
        raise ValidationError(_("%(name)s is empty.") % {"name": label})
    if len(content) > MAX_BYTES:
        raise ValidationError(
            _("%(name)s is larger than %(mb)s MB.") % {"name": label, "mb": MAX_BYTES // (1024 * 1024)}
        )
    kind = filetype.guess(content)
    content_type = kind.mime if kind is not None else ""
    if content_type not in ALLOWED:
        raise ValidationError(
            _("%(name)s is not a PDF, PNG or JPEG file (its content is %(what)s).")
            % {"name": label, "what": content_type or _("of no known type")}
        )
    suffix = PurePath(label).suffix.lower().lstrip(".")
    if suffix not in ALLOWED[content_type]:
        raise ValidationError(
            _("%(name)s: its content is %(kind)s, but its name says otherwise; rename it .%(extension)s.")
            % {"name": label, "kind": NAMES[content_type], "extension": ALLOWED[content_type][0]}
        )
    if content_type.startswith("image/"):
        try:
            with Image.open(io.BytesIO(content)) as image:
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
            raise ValidationError(_("%(name)s is not a readable image.") % {"name": label}) from error
    elif b"%%EOF" not in content[-2048:]:
        raise ValidationError(_("%(name)s is not a complete PDF file.") % {"name": label})
    return Upload(label, content, content_type, ALLOWED[content_type][0])


def store_attachment(consultation: Consultation, user: Any, kind: str, upload: Upload) -> Attachment:
    """Write the file, then its row. The caller's transaction deletes the file again if it rolls back
    (see `files_undone_on_error`), so a refused request leaves no file behind."""
    if kind not in Attachment.Kind.values:
        raise ValidationError(_("Choose the kind of the attachment."))
    attachment = Attachment(
        consultation=consultation,
        kind=kind,
        name=upload.name,
        content_type=upload.content_type,
        extension=upload.extension,
        size=len(upload.content),
        sha256=hashlib.sha256(upload.content).hexdigest(),
        uploaded_by=user,
    )
    attachment.file.save(f"{attachment.sha256}.{upload.extension}", ContentFile(upload.content), save=False)
    _written.get().append((attachment.file.storage, str(attachment.file.name)))
    attachment.save()
    return attachment


#: Files written inside the current request's transaction, to delete if it fails: one list per request
#: (a context variable, not a module list two threads of one server would share and clear for each other).
_written: ContextVar[list[tuple[Any, str]]] = ContextVar("consult_files_written")


@contextmanager
def files_undone_on_error() -> Iterator[None]:
    """One transaction whose files are deleted again when it does not commit."""
    written: list[tuple[Any, str]] = []
    token = _written.set(written)
    try:
        with transaction.atomic():
            yield
    except BaseException:
        for storage, name in written:
            storage.delete(name)
        raise
    finally:
        _written.reset(token)
