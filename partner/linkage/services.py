"""Storing encodings, finding candidate pairs, and recording the reviewer's decisions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from partner.cases.guard import lock_patients
from partner.cases.models import Patient
from partner.lib.bulk import insert
from partner.lib.pseudonym import Identity

from .encoding import REGISTRY_SCHEMA, Encoder, from_text, to_text
from .matching import REVIEW_THRESHOLD, candidate_pairs
from .models import CandidatePair, Decision, LinkageKey


def store_encoding(patient: Patient, identity: Identity, encoder: Encoder | None = None) -> LinkageKey:
    """Keep the encoding of a newly registered patient; an existing one is left as it is.

    An import passes one `Encoder` for its whole file (each token hashed once); a single
    registration makes its own, which is dropped afterwards.
    """
    existing = LinkageKey.objects.filter(patient=patient).first()
    if existing is not None:
        return existing
    encoding = to_text((encoder or Encoder(settings.LINKAGE_KEY)).encode_identity(identity))
    return store_encoded(patient, encoding, REGISTRY_SCHEMA.version)


def store_encoded(patient: Patient, encoding: str, schema_version: str) -> LinkageKey:
    """Keep an encoding made elsewhere (a node's `partner identity encode`); an existing one is left.

    Raises ValueError for text that is not an encoding.
    """
    from_text(encoding)
    key, _created = LinkageKey.objects.get_or_create(
        patient=patient, defaults={"encoding": encoding, "schema_version": schema_version}
    )
    return key


def store_encodings(wanted: Sequence[tuple[Patient, Identity | tuple[str, str]]], encoder: Encoder) -> list[LinkageKey]:
    """`store_encoding` (an identity) or `store_encoded` (an encoding and its schema version) for many
    patients, as one call after another would, with one query and one insert.

    A patient's first entry is kept if it has no encoding yet; identities are encoded only then.
    Raises ValueError, before anything is written, for an encoding that is not one.
    """
    for _patient, given in wanted:
        if not isinstance(given, Identity):
            from_text(given[0])
    have = set(
        LinkageKey.objects.filter(patient_id__in={p.pk for p, _given in wanted}).values_list("patient_id", flat=True)
    )
    keys = []
    for patient, given in wanted:
        if patient.pk in have:
            continue
        have.add(patient.pk)
        if isinstance(given, Identity):
            encoding, schema_version = to_text(encoder.encode_identity(given)), REGISTRY_SCHEMA.version
        else:
            encoding, schema_version = given
        keys.append(LinkageKey(patient=patient, encoding=encoding, schema_version=schema_version))
    insert(keys, LinkageKey)
    return keys


@dataclass(frozen=True)
class LinkRun:
    compared: int  # encodings compared for the first time
    against: int  # encodings they were compared with
    pairs: int  # candidate pairs found, new or already known
    new_pairs: int


@transaction.atomic
def link_run(
    *, threshold: float = REVIEW_THRESHOLD, everything: bool = False, blocked: bool = False, workers: int = 1
) -> LinkRun:
    """Compare every encoding not yet compared with all the registry's, under the schema in force.

    Pairs at or above `threshold` are stored once (re-running finds nothing new and changes
    nothing); encodings of another schema version are never compared, as they cannot match. With
    `blocked`, only children who share the year, the month or the day of birth are compared
    (partner.linkage.matching explains what that leaves out); without, every pair. `workers`
    processes share the comparisons.
    """
    keys = list(
        LinkageKey.objects.filter(schema_version=REGISTRY_SCHEMA.version).values_list(
            "id", "patient_id", "encoding", "compared", "patient__date_of_birth"
        )
    )
    fresh = [k for k in keys if everything or k[3] is None]
    if not fresh:
        return LinkRun(0, len(keys), 0, 0)
    births = ([k[4] for k in fresh], [k[4] for k in keys]) if blocked else None
    new, existing = [from_text(k[2]) for k in fresh], [from_text(k[2]) for k in keys]
    found = candidate_pairs(new, existing, threshold, births, workers=workers)
    best: dict[tuple[int, int], float] = {}
    for i, j, score in found:
        a, b = fresh[i][1], keys[j][1]
        if a == b:
            continue
        ordered = (min(a, b), max(a, b))
        best[ordered] = max(score, best.get(ordered, 0.0))
    known = set(CandidatePair.objects.filter(left_id__in=[p[0] for p in best]).values_list("left_id", "right_id"))
    found_now = [
        CandidatePair(left_id=a, right_id=b, similarity=score, schema_version=REGISTRY_SCHEMA.version)
        for (a, b), score in best.items()
        if (a, b) not in known
    ]
    for candidate in found_now:
        candidate.save()  # one by one, so that each pair's history starts with its finding
    LinkageKey.objects.filter(id__in=[k[0] for k in fresh]).update(compared=timezone.now())
    return LinkRun(len(fresh), len(keys), len(best), len(found_now))


@transaction.atomic
def decide(pair: CandidatePair, decision: str, reason: str, user: Any) -> CandidatePair:
    """Record a reviewer's decision (kept in the pair's history) and re-derive the registry identities.

    The decision touches both patients: it passes the cases' guard, which asks for a European
    coordinator and locks the two patient rows.
    """
    pair = CandidatePair.objects.select_for_update(of=("self",)).get(pk=pair.pk)
    lock_patients(user, [pair.left_id, pair.right_id])
    pair.decision = decision
    pair.reason = reason
    pair.decided_by = user
    pair.decided_at = timezone.now()
    pair._history_user = user  # type: ignore[attr-defined]
    pair.save()
    relink([pair.left_id, pair.right_id], user)
    return pair


def relink(patient_ids: Iterable[int], user: Any = None) -> None:
    """Give every patient linked by "same child" decisions, directly or through others, one identity.

    The identity is the smallest patient id of the group; a patient linked to no one has none.
    Patients that shared an identity with these ones are recomputed too, so that undoing a
    decision splits the group again.
    """
    start = set(patient_ids)
    old = set(
        Patient.objects.filter(pk__in=start, registry_identity__isnull=False).values_list(
            "registry_identity", flat=True
        )
    )
    start |= set(Patient.objects.filter(registry_identity__in=old).values_list("pk", flat=True))
    same = list(CandidatePair.objects.filter(decision=Decision.SAME).values_list("left_id", "right_id"))
    neighbours: dict[int, set[int]] = {}
    for a, b in same:
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    seen: set[int] = set()
    for patient_id in sorted(start):
        if patient_id in seen:
            continue
        group, todo = {patient_id}, [patient_id]
        while todo:
            for other in neighbours.get(todo.pop(), ()):
                if other not in group:
                    group.add(other)
                    todo.append(other)
        seen |= group
        identity = min(group) if len(group) > 1 else None
        for patient in Patient.objects.filter(pk__in=group).exclude(registry_identity=identity):
            patient.registry_identity = identity
            if user is not None:
                patient._history_user = user  # type: ignore[attr-defined]
            patient.save(update_fields=["registry_identity"])
