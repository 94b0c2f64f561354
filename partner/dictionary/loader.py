"""Loading checked definitions into immutable rows, and getting a version back at run time."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from django.conf import settings
from django.db import transaction

from .classify import Classifier
from .definitions import Definitions, read_definitions
from .models import DictionaryVersion, EntityDefinition, FieldDefinition, FormDefinition
from .schema import Entity, FormDef, IcccFile, Release


class VersionConflict(Exception):
    pass


@dataclass
class LoadResult:
    version: DictionaryVersion
    created: bool


@transaction.atomic
def load_definitions(definitions: Definitions) -> LoadResult:
    """Store a version; loading the same content again is a no-op, different content an error."""
    existing = DictionaryVersion.objects.filter(number=definitions.version).first()
    if existing is not None:
        if existing.content_hash != definitions.content_hash:
            raise VersionConflict(
                f"dictionary version {definitions.version} is already loaded with different "
                "content; a loaded version is never changed: give the new definitions a new "
                "version number"
            )
        return LoadResult(existing, created=False)
    newest = DictionaryVersion.objects.order_by("-number").first()
    if newest is not None and newest.number > definitions.version:
        raise VersionConflict(f"version {definitions.version} is older than the loaded version {newest.number}")
    release = definitions.release
    version = DictionaryVersion.objects.create(
        number=release.version,
        released=release.released,
        title=release.title.model_dump(),
        description=release.description,
        content_hash=definitions.content_hash,
        definition=definitions.as_json(),
    )
    entities = EntityDefinition.objects.bulk_create(
        EntityDefinition(
            version=version,
            position=i,
            code=e.code,
            names=e.names.model_dump(),
            description=e.description.model_dump() if e.description else None,
            iccc_extended=e.iccc_extended,
            orpha=e.orpha,
            incidence_vrt=e.incidence_vrt,
            expert_scope=e.expert_scope,
            panel=e.panel,
            match=[m.model_dump(mode="json", exclude_none=True) for m in e.match],
        )
        for i, e in enumerate(definitions.entities)
    )
    by_code = {e.code: e for e in entities}
    for position, form in enumerate(definitions.forms):
        row = FormDefinition.objects.create(
            version=version,
            position=position,
            code=form.code,
            labels=form.labels.model_dump(),
            help=form.help.model_dump() if form.help else None,
            repeating=form.repeating,
        )
        row.entities.set([by_code[c] for c in form.entities])
        FieldDefinition.objects.bulk_create(
            FieldDefinition(
                form=row,
                position=i,
                code=f.code,
                labels=f.labels.model_dump(),
                help=f.help.model_dump() if f.help else None,
                section=f.section.model_dump() if f.section else None,
                type=f.type,
                unit=f.unit or "",
                min_value=f.min,
                max_value=f.max,
                max_length=f.max_length,
                decimals=f.decimals,
                code_system=f.code_system or "",
                choices=[c.model_dump(mode="json", exclude_defaults=True) for c in f.choices],
                required=f.required,
                required_if=f.required_if or "",
                show_if=f.show_if or "",
                computed=f.computed or "",
                eu_cde=f.mappings.eu_cde or "",
                fhir=f.mappings.fhir or "",
                phenopackets=f.mappings.phenopackets or "",
                redcap=f.mappings.redcap or "",
            )
            for i, f in enumerate(form.fields)
        )
    return LoadResult(version, created=True)


def load_bundled(path: Path | None = None) -> LoadResult:
    return load_definitions(read_definitions(path))


class Dictionary:
    """A loaded version at run time: definitions, classifier and look-ups, built once."""

    def __init__(self, row: DictionaryVersion):
        self.row = row
        data = row.definition
        self.number = row.number
        self.release = Release.model_validate(data["release"])
        self.iccc = IcccFile.model_validate(data["iccc"])
        self.entities = [Entity.model_validate(e) for e in data["entities"]]
        self.forms = [FormDef.model_validate(f) for f in data["forms"]]

    @cached_property
    def classifier(self) -> Classifier:
        return Classifier(self.iccc, self.entities, max_age=settings.PARTNER_MAX_AGE_YEARS)

    @cached_property
    def entity_by_code(self) -> dict[str, Entity]:
        return {e.code: e for e in self.entities}

    @cached_property
    def form_by_code(self) -> dict[str, FormDef]:
        return {f.code: f for f in self.forms}

    def common_forms(self) -> list[FormDef]:
        return [f for f in self.forms if not f.is_module]

    def modules_for(self, entity_code: str | None) -> list[FormDef]:
        return [f for f in self.forms if entity_code and entity_code in f.entities]


_cache: dict[int, Dictionary] = {}
_lock = threading.Lock()


class NoDictionary(Exception):
    pass


def get_dictionary(number: int | None = None) -> Dictionary:
    """The version `number`, or the one in force (settings, else the newest loaded)."""
    wanted = number or (int(settings.PARTNER_DICTIONARY_VERSION) if settings.PARTNER_DICTIONARY_VERSION else None)
    if wanted is not None and wanted in _cache:
        return _cache[wanted]
    qs = DictionaryVersion.objects.all()
    row = qs.filter(number=wanted).first() if wanted is not None else qs.order_by("-number").first()
    if row is None:
        raise NoDictionary(
            "no data dictionary is loaded"
            + (f" with version {wanted}" if wanted else "")
            + ": run `partner dictionary load`"
        )
    with _lock:
        if row.number not in _cache or _cache[row.number].row.content_hash != row.content_hash:
            _cache[row.number] = Dictionary(row)
        return _cache[row.number]
