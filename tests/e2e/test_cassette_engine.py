"""Record the quickstart from the local engine, then replay it with the engine out of reach."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scripts.record_cassettes import CLOSED_URL, SENTINEL_KEY, errors, run, shown

pytestmark = [pytest.mark.kernel, pytest.mark.engine]


def test_record_the_quickstart_then_replay_it_identically(engine: Any, tmp_path: Path) -> None:
    tape = tmp_path / "quickstart.jsonl"
    live = run("quickstart", engine.base_url, "record", cassette=tape)
    assert errors(live) == []
    assert SENTINEL_KEY not in tape.read_text()
    # The replay talks to a closed port: the engine is not there for it.
    replayed = run("quickstart", CLOSED_URL, "replay", cassette=tape)
    assert errors(replayed) == []
    assert shown(replayed) == shown(live)
