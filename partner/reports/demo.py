"""The demo registry's population denominators: a synthetic Eurostat table, loaded as a real one is.

Each country's children aged 0 to 19 are about a twenty-fifth of the real number, so that the demo's
few hundred children give rates of the order a full registry's thousands would. The table is written
in Eurostat's bulk TSV format and read back through the same loader a coordinator uses.
"""

from __future__ import annotations

import io
import random

from .models import PopulationLoad
from .population import load_population

#: Children aged 0 to 19 in millions, rounded, about 2020.
CHILDREN = {"IT": 9.6, "FR": 15.6, "DE": 15.2, "PL": 7.5, "GB": 15.3}
SCALE = 1 / 25
YEARS = range(2005, 2026)


def demo_population_tsv(seed: int = 1) -> str:
    r = random.Random(seed)
    years = list(YEARS)
    lines = ["freq,unit,age,sex,geo\\TIME_PERIOD\t" + "\t".join(f"{y} " for y in years)]
    for country, millions in CHILDREN.items():
        per_age = millions * 1e6 * SCALE / 20
        for age in range(20):
            code = "Y_LT1" if age == 0 else f"Y{age}"
            trend = [per_age * (1 - 0.004 * (y - years[0])) * r.uniform(0.98, 1.02) for y in years]
            female = [round(v * 0.487) for v in trend]
            male = [round(v) - f for v, f in zip(trend, female, strict=True)]
            for sex, values in (("F", female), ("M", male), ("T", [f + m for f, m in zip(female, male, strict=True)])):
                lines.append(f"A,NR,{code},{sex},{country}\t" + "\t".join(f"{v} " for v in values))
    return "\n".join(lines) + "\n"


def load_demo_population(seed: int = 1) -> PopulationLoad:
    return load_population(io.BytesIO(demo_population_tsv(seed).encode()), name="demo population (synthetic).tsv")
