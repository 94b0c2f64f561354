"""The demo website's content: the national groups, a guideline per status, two news items.

The groups are the network's real national rare-tumour groups; their addresses are examples, and
the guideline PDFs are placeholders that say so.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from partner.accounts.models import Country, Role

from .models import Guideline, GuidelineFile, NationalGroup, NewsItem

GROUPS = [
    ("IT", "TREP: Tumori Rari in Età Pediatrica", "it"),
    ("FR", "FRACTURE: France RAre CancErs in Children", "fr"),
    ("DE", "STEP: Seltene Tumorerkrankungen in der Pädiatrie (GPOH)", "de"),
    ("PL", "Polish Paediatric Rare Tumours Study Group", "pl"),
    ("GB", "UK Very Rare Tumours Group", "en"),
]

GUIDELINES = [
    ("ACC", "Adrenocortical carcinoma in children and adolescents", "1.0", Guideline.Status.PUBLISHED),
    ("NPC", "Nasopharyngeal carcinoma in children and adolescents", "2.0", Guideline.Status.CONSULTATION),
    ("PPB", "Pleuropulmonary blastoma", "0.3", Guideline.Status.DRAFT),
]


def placeholder_pdf(title: str) -> bytes:
    buffer = io.BytesIO()
    with PdfPages(buffer, metadata={"Title": title, "CreationDate": None}) as pdf:
        page = Figure(figsize=(8.27, 11.69))
        page.text(0.1, 0.85, title, fontsize=16, weight="bold")
        page.text(0.1, 0.8, "Demonstration registry: this is a placeholder, not a clinical guideline.", fontsize=11)
        pdf.savefig(page)
    return buffer.getvalue()


def demo_website(today: dt.date | None = None) -> int:
    """Create the demo content once; returns the number of items created."""
    if NationalGroup.objects.exists() or Guideline.objects.exists():
        return 0
    today = today or dt.date.today()
    author = get_user_model().objects.filter(memberships__role=Role.EUROPEAN_COORDINATOR).first()
    if author is None:
        return 0
    created = 0
    for code, name, language in GROUPS:
        country = Country.objects.filter(code=code).first()
        if country is not None:
            NationalGroup.objects.create(
                country=country, name=name, language=language, email=f"{code.lower()}-group@example.org"
            )
            created += 1
    for i, (entity, title, version, status) in enumerate(GUIDELINES):
        guideline = Guideline.objects.create(
            entity=entity,
            title=title,
            version=version,
            status=status,
            date=today - dt.timedelta(days=90 * (i + 1)),
            updated_by=author,
            summary="Diagnosis, staging, surgery and systemic treatment, as agreed by the national groups.",
        )
        content = placeholder_pdf(title)
        digest = hashlib.sha256(content).hexdigest()
        item = GuidelineFile(
            guideline=guideline,
            label="full text",
            name=f"escp-{entity.lower()}.pdf",
            size=len(content),
            sha256=digest,
            uploaded_by=author,
        )
        item.file.save(f"{digest}.pdf", ContentFile(content), save=False)
        item.save()
        created += 1
    for days, title, body in [
        (
            20,
            "Five national groups now register in one dictionary",
            "Italy, France, Germany and Austria, Poland and the United Kingdom register their very rare tumours "
            "in one common dictionary.\n\nEach case is checked by the same quality rules.",
        ),
        (
            75,
            "Expert panels answer within ten days",
            "Urgent requests are answered within three days; routine ones within ten.",
        ),
    ]:
        NewsItem.objects.create(
            title=title, body=body, published=today - dt.timedelta(days=days), visible=True, updated_by=author
        )
        created += 1
    return created
