"""Keep notebooks/ committed without outputs: list what is dirty, or strip it with --strip.

Outputs in a committed notebook go stale, bloat diffs and could carry a key or a
machine's paths; tests/test_notebooks_clean.py runs this check in `make test`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent


def problems(nb: nbformat.NotebookNode) -> list[str]:
    """What makes ``nb`` not clean: outputs, execution counts, widget state."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            found.append(f"cell {i} has outputs")
        if cell.get("execution_count") is not None:
            found.append(f"cell {i} has an execution count")
    if "widgets" in nb.metadata:
        found.append("metadata holds widget state")
    return found


def strip(nb: nbformat.NotebookNode) -> None:
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata.pop("widgets", None)


def main(argv: list[str]) -> int:
    fix = "--strip" in argv
    paths = [Path(a) for a in argv if a != "--strip"] or sorted(
        (ROOT / "notebooks").glob("*.ipynb")
    )
    dirty = 0
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        found = problems(nb)
        if found and fix:
            strip(nb)
            nbformat.write(nb, path)
            print(f"{path}: stripped")
        elif found:
            dirty += 1
            print(f"{path}: {'; '.join(found)} (run scripts/check_notebooks.py --strip)")
    return 1 if dirty else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
