"""A bundle checked as FHIR R4 before it is read: what is not FHIR is refused with its first problem named."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from .fhir_bundle import BundleError

#: Bundle.type, a required binding in R4 that the models do not check.
BUNDLE_TYPES = {
    *("document", "message", "transaction", "transaction-response", "batch", "batch-response"),
    *("history", "searchset", "collection"),
}


def parse_bundle(bundle: Any) -> dict[str, Any]:
    """The bundle validated as FHIR R4 and normalised; a `BundleError` names the first problem."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise BundleError(_("not a FHIR Bundle: a JSON object with resourceType Bundle is expected"))
    if bundle.get("type") not in BUNDLE_TYPES:
        raise BundleError(_("Bundle.type %(type)r is not a FHIR bundle type") % {"type": bundle.get("type")})
    for number, entry in enumerate(bundle.get("entry") or []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if resource is None:
            continue  # the models report what else is wrong with the entry
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        try:
            get_fhir_model_class(str(kind))
        except ValueError:
            raise BundleError(
                _("entry[%(n)d].resource%(url)s: %(kind)r is not a FHIR R4 resource type")
                % {"n": number, "url": _full_url(entry), "kind": kind}
            ) from None
    try:
        parsed = Bundle.model_validate(bundle)
    except ValidationError as exc:
        raise BundleError(_describe(bundle, exc)) from None
    return parsed.model_dump(mode="json", exclude_none=True)


def _full_url(entry: dict[str, Any]) -> str:
    return f" ({entry['fullUrl']})" if isinstance(entry.get("fullUrl"), str) else ""


def _describe(bundle: dict[str, Any], exc: ValidationError) -> str:
    error = exc.errors()[0]
    loc = error["loc"]
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
    if len(loc) > 2 and loc[0] == "entry" and isinstance(loc[1], int) and loc[2] == "resource":
        entry = bundle["entry"][loc[1]]
        resource = entry["resource"]
        if isinstance(resource, dict):
            url = entry.get("fullUrl") if isinstance(entry.get("fullUrl"), str) else resource.get("id")
            path += f" ({' '.join(str(p) for p in (resource.get('resourceType'), url) if p)})"
    message = str(error["msg"]).split("\n")[0]
    return _("not valid FHIR R4: %(path)s: %(message)s") % {"path": path or "Bundle", "message": message}
