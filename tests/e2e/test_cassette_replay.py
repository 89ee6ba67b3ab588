"""Every notebook reruns from its committed cassette with no engine and no network.

The shown outputs equal the recorded run's (``notebooks/cassettes/NAME.outputs.json``,
written by ``make cassettes``) after removing only kernel-volatile fields;
only the provenance metadata says "replayed".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest

from scripts.record_cassettes import (
    CASSETTES,
    CLOSED_URL,
    SENTINEL_KEY,
    errors,
    names,
    run,
    shown,
)


def sources(nb: nbformat.NotebookNode) -> list[str]:
    return [
        o["metadata"]["nscale"]["source"]
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if "nscale" in o.get("metadata", {})
    ]


def test_every_notebook_has_a_cassette() -> None:
    assert names() == ["logprobs", "quickstart", "sampling", "token_lab", "tools"]
    for name in names():
        tape = (CASSETTES / f"{name}.jsonl").read_text()
        assert SENTINEL_KEY not in tape and "authorization" not in tape.lower()
        assert str(CASSETTES.parent.parent) not in tape  # no machine's path
        assert (CASSETTES / f"{name}.outputs.json").is_file()


@pytest.mark.kernel
@pytest.mark.parametrize("name", ["quickstart", "tools", "logprobs", "sampling", "token_lab"])
def test_a_replay_shows_what_the_recorded_run_showed(name: str, tmp_path: Path) -> None:
    tape = tmp_path / f"{name}.jsonl"  # a copy: a replay must not write, and here cannot
    tape.write_bytes((CASSETTES / f"{name}.jsonl").read_bytes())
    nb = run(name, CLOSED_URL, "replay", cassette=tape)
    assert errors(nb) == []
    recorded: list[Any] = json.loads((CASSETTES / f"{name}.outputs.json").read_text())
    replayed = shown(nb)
    for i, (got, want) in enumerate(zip(replayed, recorded, strict=True)):
        assert got == want, f"{name}: code cell {i} shows something else"
    said = sources(nb)
    assert said and set(said) == {"replayed"}
    assert tape.read_bytes() == (CASSETTES / f"{name}.jsonl").read_bytes()
