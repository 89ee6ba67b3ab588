"""notebooks/ is committed without outputs (no kernel or engine needed)."""

from __future__ import annotations

from pathlib import Path

import nbformat

from scripts.check_notebooks import ROOT, main, problems, strip

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_the_four_notebooks_exist() -> None:
    names = {p.name for p in NOTEBOOKS}
    assert {"quickstart.ipynb", "sampling.ipynb", "tools.ipynb", "logprobs.ipynb"} <= names


def test_committed_notebooks_are_clean() -> None:
    assert {p.name: problems(nbformat.read(p, as_version=4)) for p in NOTEBOOKS} == {
        p.name: [] for p in NOTEBOOKS
    }


def test_each_notebook_says_what_it_needs_first() -> None:
    for path in NOTEBOOKS:
        first = nbformat.read(path, as_version=4).cells[0]
        assert first.cell_type == "markdown" and "NSCALE_API_KEY" in first.source, path.name


def test_the_check_finds_and_strips_outputs(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("1 + 1", execution_count=3)
    cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"})]
    nb.cells = [cell]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    path = tmp_path / "dirty.ipynb"
    nbformat.write(nb, path)
    assert len(problems(nbformat.read(path, as_version=4))) == 3
    assert main([str(path)]) == 1
    assert main(["--strip", str(path)]) == 0
    assert main([str(path)]) == 0
    stripped = nbformat.read(path, as_version=4)
    assert stripped.cells[0].source == "1 + 1" and problems(stripped) == []
    strip(stripped)  # idempotent
    assert problems(stripped) == []
