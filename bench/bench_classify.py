"""Classification of ICD-O-3 codes to ICCC-3 and VRT entities, as a national file would need.

Figure: codes classified per second by `Classifier.classify` over 300,000 codes drawn from a
registry-like mix. Peer, measured in the same run: a plain first-match scan of the ICCC-3 rule
table and the entity list for every code, without the classifier's precompiled ranges and cache.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from partner.dictionary.classify import Classifier
from partner.dictionary.definitions import read_definitions
from partner.lib.icdo import histology_set, parse_morphology, topography_key, topography_set

N = 300_000
PEER_N = 20_000


def sample(n: int, seed: int = 7) -> list[tuple[str, str, float]]:
    r = random.Random(seed)
    common = [
        ("8370/3", "C74.0"),
        ("8260/3", "C73.9"),
        ("8720/3", "C44.5"),
        ("8072/3", "C11.9"),
        ("8960/3", "C64.9"),
        ("9500/3", "C74.9"),
        ("8140/3", "C18.7"),
        ("8973/3", "C34.1"),
        ("9835/3", "C42.1"),
        ("8010/3", "C07.9"),
    ]
    out = []
    for _ in range(n):
        if r.random() < 0.8:
            m, t = r.choice(common)
        else:
            m, t = f"{r.randint(8000, 9989)}/{r.choice((0, 1, 3, 3, 3))}", f"C{r.randint(0, 80):02d}.{r.randint(0, 9)}"
        out.append((m, t, round(r.uniform(0, 19), 1)))
    return out


def peer(d, morphology: str, topography: str) -> tuple[str | None, str | None]:
    m = parse_morphology(morphology)
    site = topography_key(topography)
    extended = None
    for rule in d.iccc.rules:
        if (
            site in topography_set(rule.sites)
            and not (rule.sites_exclude and site in topography_set(rule.sites_exclude))
            and m.histology in histology_set(rule.histology)
            and not (rule.histology_exclude and m.histology in histology_set(rule.histology_exclude))
            and m.behaviour in rule.behaviour
        ):
            extended = rule.extended
            break
    for e in d.entities:
        for rule in e.match:
            if rule.morphology and m.histology not in histology_set(rule.morphology):
                continue
            if m.behaviour not in rule.behaviour:
                continue
            if rule.topography and site not in topography_set(rule.topography):
                continue
            if rule.topography_exclude and site in topography_set(rule.topography_exclude):
                continue
            if rule.iccc_extended and extended not in rule.iccc_extended:
                continue
            return extended, e.code
    return extended, None


def main() -> None:
    d = read_definitions()
    classifier = Classifier(d.iccc, d.entities)
    codes = sample(N)
    start = time.perf_counter()
    results = [classifier.classify(m, t, a) for m, t, a in codes]
    ours = time.perf_counter() - start
    start = time.perf_counter()
    peer_results = [peer(d, m, t) for m, t, _ in codes[:PEER_N]]
    theirs = time.perf_counter() - start
    agree = sum((r.iccc_extended, r.entity) == p for r, p in zip(results, peer_results, strict=False))
    ours_rate, peer_rate = N / ours, PEER_N / theirs
    print(f"classify: {ours_rate:,.0f} codes/s ({N:,} codes in {ours:.2f} s)")
    print(f"peer (first-match scan of the rule table): {peer_rate:,.0f} codes/s ({PEER_N:,} codes in {theirs:.2f} s)")
    print(f"ratio: {ours_rate / peer_rate:.1f}x the peer; agreement on the peer's {PEER_N:,} codes: {agree:,}")
    if agree != PEER_N:
        sys.exit("the classifier and the plain scan disagree")


if __name__ == "__main__":
    main()
