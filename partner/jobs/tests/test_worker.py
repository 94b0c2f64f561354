"""The web import through the real worker: the request answers at once, the page shows the rows done,
the import finishes in the worker; a worker killed half-way leaves nothing and the job runs again."""

from __future__ import annotations

from pathlib import Path

import pytest

from .story import web_import_story

ROWS = 10_000


@pytest.mark.browser
def test_a_web_import_runs_in_the_worker_and_survives_the_worker_killed_half_way(tmp_path: Path) -> None:
    seen = web_import_story(tmp_path, ROWS)
    assert seen["check_request"] < 5 and seen["import_request"] < 5, "a request waited for the work"
    assert seen["after_check"] == seen["before"]  # a check writes nothing
    assert len(seen["progress_values"]) >= 2, "the page showed the rows done as they were"
    assert ROWS // 5 < seen["killed_at"] < ROWS
    assert seen["after_kill"] == seen["before"], "the killed import left cases behind"
    assert seen["stalled_shown"]
    assert seen["after_import"] == seen["before"] + ROWS
