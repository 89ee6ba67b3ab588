"""Every notebook reruns from its committed cassette with no engine and no network,
and shows what the committed notebook shows: its outputs are current.

The committed outputs are written by ``make notebooks`` (a replay, the same as
here); they are compared after ``check_notebooks.comparable`` (PNGs by their
size). A difference means the code now shows something else: rewrite them.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from scripts.check_notebooks import committed, comparable
from scripts.record_cassettes import (
    CASSETTES,
    CLOSED_URL,
    NOTEBOOKS,
    SENTINEL_KEY,
    errors,
    names,
    run,
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
    assert sorted(p.name for p in CASSETTES.iterdir()) == [f"{n}.jsonl" for n in names()]


@pytest.mark.kernel
@pytest.mark.parametrize("name", ["quickstart", "tools", "logprobs", "sampling", "token_lab"])
def test_a_replay_shows_what_the_committed_notebook_shows(name: str, tmp_path: Path) -> None:
    tape = tmp_path / f"{name}.jsonl"  # a copy: a replay must not write, and here cannot
    tape.write_bytes((CASSETTES / f"{name}.jsonl").read_bytes())
    saved = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nb = run(name, CLOSED_URL, "replay", cassette=tape)
    assert errors(nb) == []
    replayed = comparable(committed(saved, nb))
    for i, (got, want) in enumerate(zip(replayed, comparable(saved), strict=True)):
        assert got == want, f"{name}: code cell {i} shows something else (make notebooks)"
    said = sources(nb)
    assert said and set(said) == {"replayed"}
    assert tape.read_bytes() == (CASSETTES / f"{name}.jsonl").read_bytes()
