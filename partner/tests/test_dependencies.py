"""anonlink reads its own version through pkg_resources, which setuptools ships only up to 80.x: the
pinned setuptools must keep it importable, and working."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# In a fresh interpreter: the suite has imported anonlink long before this test runs.
MATCH = textwrap.dedent(
    """
    import importlib.metadata, warnings
    warnings.simplefilter("error")
    warnings.filterwarnings("ignore", "pkg_resources is deprecated as an API", UserWarning)
    warnings.filterwarnings("ignore", "mypy_extensions.TypedDict is deprecated", DeprecationWarning)
    import anonlink
    from anonlink.candidate_generation import find_candidate_pairs
    from anonlink.similarities import dice_coefficient
    from bitarray import bitarray

    assert anonlink.__version__ == importlib.metadata.version("anonlink"), anonlink.__version__
    child = bitarray("1111000011110000")
    same = bitarray("1111000011110001")
    other = bitarray("0000111100001111")
    sims, datasets, records = find_candidate_pairs([[child], [other, same]], dice_coefficient, 0.8)
    print(list(zip(datasets[0], records[0], datasets[1], records[1])), [round(s, 3) for s in sims])
    """
)


def test_the_installed_setuptools_is_the_pinned_one_and_still_ships_pkg_resources() -> None:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = [re.fullmatch(r"setuptools==([\d.]+)", d.split("#")[0].strip()) for d in dependencies]
    pinned = [m[1] for m in pins if m]
    assert pinned == [importlib.metadata.version("setuptools")]
    assert int(pinned[0].split(".")[0]) <= 80, "pkg_resources is gone from setuptools 81 on"
    import pkg_resources  # noqa: F401


def test_anonlink_imports_and_matches_two_encodings_of_one_child() -> None:
    run = subprocess.run([sys.executable, "-c", MATCH], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[(0, 0, 1, 1)] [0.941]"
