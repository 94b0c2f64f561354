"""Candidate pairs and the 1:1 assignment, through anonlink."""

import datetime as dt
import random

import pytest
from bitarray import bitarray

from partner.lib.pseudonym import Identity
from partner.linkage.encoding import encode_identity
from partner.linkage.matching import LIKELY_THRESHOLD, candidate_pairs, dice, one_to_one

KEY = b"a fixed key, for tests only, 32+ bytes"


def test_dice_is_the_sorensen_dice_coefficient():
    assert dice(bitarray("11110000"), bitarray("11001100")) == pytest.approx(0.5)
    assert dice(bitarray("00000000"), bitarray("00000000")) == 0.0
    with pytest.raises(ValueError, match="different lengths"):
        dice(bitarray("1111"), bitarray("11110000"))


def test_candidate_pairs_are_every_pair_at_or_above_the_threshold_best_first():
    rng = random.Random(5)
    new = [bitarray([rng.random() < 0.5 for _ in range(256)]) for _ in range(6)]
    existing = [*new[:3], *(bitarray([rng.random() < 0.5 for _ in range(256)]) for _ in range(5))]
    existing[1] = existing[1].copy()
    existing[1][:20] = ~existing[1][:20]
    found = candidate_pairs(new, existing, 0.55)
    expected = {(i, j) for i, a in enumerate(new) for j, b in enumerate(existing) if dice(a, b) >= 0.55}
    assert {(i, j) for i, j, _ in found} == expected
    assert {(0, 0), (1, 1), (2, 2)} <= expected
    for i, j, similarity in found:
        assert similarity == pytest.approx(dice(new[i], existing[j]))
    assert [s for _, _, s in found] == sorted((s for _, _, s in found), reverse=True)
    assert candidate_pairs([], existing, 0.5) == []


def test_blocking_compares_children_who_share_a_part_of_the_date_of_birth_and_the_undated_with_all():
    rng = random.Random(8)

    def date():
        if rng.random() < 0.1:
            return None
        return dt.date(rng.choice([2008, 2010, 2011]), rng.choice([1, 2, 7]), rng.choice([3, 4, 28]))

    new = [bitarray([rng.random() < 0.5 for _ in range(128)]) for _ in range(40)]
    existing = [*new[:10], *(bitarray([rng.random() < 0.5 for _ in range(128)]) for _ in range(50))]
    births = ([date() for _ in new], [date() for _ in existing])

    def shares(a, b):
        return a is None or b is None or a.year == b.year or a.month == b.month or a.day == b.day

    everything = candidate_pairs(new, existing, 0.45)
    blocked = candidate_pairs(new, existing, 0.45, births)
    expected = [(i, j, s) for i, j, s in everything if shares(births[0][i], births[1][j])]
    assert blocked == expected
    assert len(expected) < len(everything)  # some pairs share nothing, and are left out
    assert any(births[0][i] is None for i, _, _ in expected) and any(births[1][j] is None for _, j, _ in expected)


def test_processes_sharing_the_comparisons_find_what_one_finds(monkeypatch):
    from partner.linkage import matching

    rng = random.Random(9)
    new = [bitarray([rng.random() < 0.5 for _ in range(128)]) for _ in range(70)]
    existing = [*new[:20], *(bitarray([rng.random() < 0.5 for _ in range(128)]) for _ in range(60))]
    births = (
        [dt.date(2010, 1 + i % 12, 1 + i % 28) for i in range(70)],
        [dt.date(2011, 1, 1 + i % 28) for i in range(80)],
    )
    monkeypatch.setattr(matching, "CHUNK_COMPARISONS", 500)  # about 11 x 11 encodings a chunk
    original, shared = matching._in_processes, []

    def spy(*args):
        shared.append(args)
        return original(*args)

    monkeypatch.setattr(matching, "_in_processes", spy)
    for dates in (None, births):
        alone = candidate_pairs(new, existing, 0.45, dates)
        assert len(alone) > 20
        assert candidate_pairs(new, existing, 0.45, dates, workers=2) == alone
    assert len(shared) == 2


def test_one_to_one_keeps_each_record_once_taking_the_most_similar_first():
    pairs = [(0, 0, 0.95), (0, 1, 0.97), (1, 1, 0.96), (2, 2, 0.91), (1, 0, 0.80)]
    assert one_to_one(pairs) == [(0, 1, 0.97), (2, 2, 0.91), (1, 0, 0.80)]
    assert one_to_one([]) == []


GIVEN = ["Giulia", "Sofia", "Aurora", "Chiara", "Léa", "Emma", "Zofia", "Hannah", "Marco", "Luca", "Jonas", "Felix"]
FAMILY = ["Rossi", "Ferrari", "Esposito", "Bianchi", "Martin", "Bernard", "Müller", "Schmidt", "Nowak", "Kowalska"]


def _transpose(name, rng):
    i = rng.randrange(1, len(name) - 1)
    return name[:i] + name[i + 1] + name[i] + name[i + 2 :]


def test_children_registered_again_with_a_typing_error_are_found_and_nobody_else():
    rng = random.Random(11)
    children = [
        Identity(
            rng.choice(GIVEN),
            rng.choice(FAMILY),
            dt.date(2005, 1, 1) + dt.timedelta(days=rng.randrange(6000)),
            rng.choice(["female", "male"]),
            rng.choice(["IT", "FR", "DE", "PL"]),
        )
        for _ in range(120)
    ]
    again = {}
    for index in rng.sample(range(len(children)), 30):
        first = children[index]
        again[len(again)] = index
        children_typo = Identity(
            first.given_names,
            _transpose(first.family_names, rng),
            first.date_of_birth,
            first.sex,
            first.country_of_birth,
        )
        children.append(children_typo)
    registry = [encode_identity(c, KEY) for c in children[:120]]
    second = [encode_identity(c, KEY) for c in children[120:]]
    matched = one_to_one(candidate_pairs(second, registry, LIKELY_THRESHOLD))
    assert {(i, j) for i, j, _ in matched} == set(again.items())
