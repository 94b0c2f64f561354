"""Attachments are checked before they are stored: what the content is, not what its name or the
browser says. Only PDF, PNG and JPEG are taken; an image must open as one. The type read here is the
only type the file is ever served with.

The type is read from the file's first bytes by `filetype`; images are then opened by Pillow, which
refuses a file that only starts like an image.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePath

import filetype
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

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
