"""The case list over a registry of 10,000 cases: filtered, sorted and paginated, as a coordinator opens it.

Figure: the median time of `GET /cases/?status=submitted&country=IT&sort=-diagnosis_date&page=3`
(Django's test client, DEBUG off in the view's work, SQLite) over 10,000 cases in three centres of two
countries, signed in as the European coordinator. Goal: under 300 ms.

Peer, measured in the same run with the same client: `GET /health`, a view that reads no case, so the
ratio is the price of the list over Django's own request floor. Also printed: the download of the same
filtered list as CSV (every page).
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _registry  # noqa: F401  (a throw-away registry, Django set up)
from django.core.management import call_command
from django.test import Client
from django.test.utils import setup_test_environment

from partner.accounts.models import Centre, Country
from partner.cases.models import Patient, TumourCase
from partner.dictionary.loader import get_dictionary
from partner.dictionary.models import DictionaryVersion, EntityDefinition
from partner.testing import RegistryStory

CASES = 10_000
RUNS = 15
GOAL_MS = 300.0
LIST = "/cases/?status=submitted&country=IT&sort=-diagnosis_date&page=3"


def build() -> RegistryStory:
    call_command("migrate", verbosity=0)
    story = RegistryStory()
    RegistryStory.build_story()
    version = DictionaryVersion.objects.get(number=get_dictionary().number)
    entities = list(EntityDefinition.objects.filter(version=version))
    centres = list(Centre.objects.all())
    rng = random.Random(19)
    patients = Patient.objects.bulk_create(
        [
            Patient(
                pseudonym=f"{i:064x}",
                sex=rng.choice(["female", "male"]),
                date_of_birth=dt.date(2000 + i % 20, 1 + i % 12, 1 + i % 28),
                country=(centre := centres[i % len(centres)]).country,
                centre=centre,
            )
            for i in range(CASES)
        ],
        batch_size=1000,
    )
    TumourCase.objects.bulk_create(
        [
            TumourCase(
                patient=p,
                centre=p.centre,
                dictionary_version=version,
                entity=rng.choice(entities),
                morphology="8370/3",
                topography="C74.0",
                diagnosis_date=dt.date(2010, 1, 1) + dt.timedelta(days=rng.randrange(5000)),
                status=rng.choice(["draft", "submitted", "validated"]),
            )
            for p in patients
        ],
        batch_size=1000,
    )
    return story


def timed(client: Client, url: str) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times) * 1000


def main() -> None:
    setup_test_environment()
    story = build()
    client = Client()
    RegistryStory.sign_in(client, story.european)
    assert TumourCase.objects.count() == CASES and Country.objects.count() == 2
    client.get(LIST)  # warm the dictionary cache and the connection
    listed = timed(client, LIST)
    floor = timed(client, "/health")
    download = timed(client, LIST.replace("&page=3", "") + "&_export=csv")
    verdict = "meets" if listed < GOAL_MS else "misses"
    print(f"case list, {CASES:,} cases, filtered + sorted + page 3: {listed:.0f} ms (median of {RUNS})")
    print(f"peer GET /health: {floor:.1f} ms; ratio {listed / floor:.0f}x")
    print(f"the same list downloaded as CSV (every page): {download:.0f} ms")
    print(f"goal under {GOAL_MS:.0f} ms: {verdict} it")


if __name__ == "__main__":
    main()
