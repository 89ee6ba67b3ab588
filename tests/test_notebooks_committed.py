"""notebooks/ is committed with its outputs, run top to bottom, holding no key or path.

Whether the outputs are current (what a replay shows today) is checked by
re-executing them from the cassettes: tests/e2e/test_cassette_replay.py.
"""

from __future__ import annotations

import base64
from pathlib import Path

import nbformat

from scripts.check_notebooks import (
    ROOT,
    SENTINEL_KEY,
    WIDGET_VIEW,
    committed,
    comparable,
    main,
    problems,
)

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: A 3x2 PNG's signature and header: enough for its size.
PNG = base64.b64encode(
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x03\x00\x00\x00\x02" + b"\x08" * 40
).decode()


def test_the_notebooks_exist() -> None:
    names = {p.name for p in NOTEBOOKS}
    assert {"quickstart.ipynb", "sampling.ipynb", "tools.ipynb", "logprobs.ipynb"} <= names


def test_committed_notebooks_are_whole_and_hold_no_key() -> None:
    assert {p.name: problems(nbformat.read(p, as_version=4)) for p in NOTEBOOKS} == {
        p.name: [] for p in NOTEBOOKS
    }


def test_committed_notebooks_show_their_answers() -> None:
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        shown = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
        replies = [o for o in shown if "nscale" in o.get("metadata", {})]
        assert replies, path.name  # a reply, with its provenance: a replay's
        assert {o["metadata"]["nscale"]["source"] for o in replies} == {"replayed"}


def test_each_notebook_says_what_it_needs_first() -> None:
    for path in NOTEBOOKS:
        first = nbformat.read(path, as_version=4).cells[0]
        assert first.cell_type == "markdown" and "NSCALE_API_KEY" in first.source, path.name


def notebook(*outputs: dict[str, object], count: int | None = 1) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("1 + 1", execution_count=count)
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    nb.cells = [nbformat.v4.new_markdown_cell("# lesson"), cell]
    return nb


def test_the_check_finds_what_must_not_be_committed(tmp_path: Path) -> None:
    said = {"output_type": "display_data", "metadata": {}}
    cases = {
        "not run top to bottom": notebook(count=None),
        "ZeroDivisionError": notebook(
            {"output_type": "error", "ename": "ZeroDivisionError", "evalue": "x", "traceback": []}
        ),
        "a widget view": notebook({**said, "data": {WIDGET_VIEW: {"model_id": "ab"}}}),
        "the recording's key": notebook({**said, "data": {"text/plain": SENTINEL_KEY}}),
        "something like a key": notebook(
            {**said, "data": {"text/plain": "key sk-live0123456789abcdefXYZ"}}
        ),
        "a machine's path": notebook({**said, "data": {"text/plain": str(ROOT / "x")}}),
    }
    for expected, nb in cases.items():
        found = problems(nb)
        assert found and expected in found[0], (expected, found)
    with_state = notebook()
    with_state.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    assert problems(with_state) == ["metadata holds widget state"]
    assert problems(notebook({**said, "data": {"text/plain": "Bearer [API key hidden]"}})) == []
    path = tmp_path / "bad.ipynb"
    nbformat.write(cases["a widget view"], path)
    assert main([str(path)]) == 1
    nbformat.write(notebook(), path)
    assert main([str(path)]) == 0


def test_committed_keeps_the_authored_notebook_and_the_run_outputs() -> None:
    source = notebook(count=None)
    source.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    view = {"output_type": "display_data", "metadata": {}}
    ran = notebook(
        {**view, "data": {WIDGET_VIEW: {"model_id": "ab"}, "text/plain": "nscale panel: ..."}},
        {**view, "data": {"image/png": PNG, "text/plain": "<Figure>"}},
        count=1,
    )
    ran.metadata["language_info"] = {"version": "3.11.7"}  # the machine's kernel
    ran.metadata["widgets"] = {"state": {}}
    nb = committed(source, ran)
    assert nb.metadata == source.metadata and problems(nb) == []
    outputs = nb.cells[1].outputs
    assert outputs[0]["data"] == {"text/plain": "nscale panel: ..."}
    assert comparable(nb)[0][1]["data"]["image/png"] == "png 3x2"
    inline = notebook({**view, "data": {"text/html": f"<img src='data:image/png;base64,{PNG}'>"}})
    assert comparable(inline)[0][0]["data"]["text/html"] == "<img src='png 3x2'>"
    assert source.cells[1].outputs == []  # the authored notebook is not changed
