"""notebooks/ is committed with its outputs: check they are whole and hold no key or path.

The outputs are those of a replay from ``notebooks/cassettes/`` (answers of
the local engine), written by ``make notebooks`` (``make cassettes`` records
the cassettes afresh and then writes them too), so a page with no kernel
(GitHub, an HTML export) shows each lesson as it runs. This check needs no
kernel and runs in ``tests/test_notebooks_committed.py``; whether the outputs
are *current* (what a replay shows today) is checked by re-executing them
from the cassettes, in ``tests/e2e/test_cassette_replay.py``.

``committed(source, ran)`` is the form written: the authored notebook with
the run's outputs and execution counts, nothing of the machine (its kernel's
Python version, widget state and model ids). ``comparable(nb)`` is what
"current" compares: the outputs, each PNG (an output's, or one inline in
HTML) by its size: its bytes vary with the matplotlib and FreeType versions.
"""

from __future__ import annotations

import copy
import re
import struct
import sys
from base64 import b64decode
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parent.parent
#: The key every recording and replay runs with: it must reach no output.
SENTINEL_KEY = "sk-SENTINEL-cassette-record-93ad"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: Strings shaped like an API key or an Authorization header.
KEY_LIKE = re.compile(r"\b(?:sk|nsk|key)-[A-Za-z0-9_-]{16,}|Bearer\s+(?!\[API key hidden\])\S{8,}")
#: A machine's paths: the checkout's, a home directory, a temporary directory.
MACHINE_PATHS = re.compile(r"(?:/home/|/root/|/tmp/|/Users/|[A-Z]:\\\\Users)")


def code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code"]


def committed(source: nbformat.NotebookNode, ran: nbformat.NotebookNode) -> Any:
    """``source`` (as authored) with the outputs and execution counts of ``ran``."""
    nb = copy.deepcopy(source)
    for cell, done in zip(code_cells(nb), code_cells(ran), strict=True):
        cell.execution_count = done.get("execution_count")
        cell.outputs = [_static(o) for o in done.get("outputs", [])]
    nb.metadata.pop("widgets", None)
    return nb


def _static(output: Any) -> Any:
    """An output without a widget view: the model it names exists only in that kernel."""
    out = copy.deepcopy(output)
    data = out.get("data")
    if data is not None and WIDGET_VIEW in data:
        del data[WIDGET_VIEW]
    return out


#: A PNG inside HTML or Markdown (compare's plots, the what-if's).
_INLINE_PNG = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=]+)")


def _png_size(data: str) -> str:
    head = b64decode(data[:64] + "=" * (-len(data[:64]) % 4))
    width, height = struct.unpack(">II", head[16:24])
    return f"png {width}x{height}"


def comparable(nb: nbformat.NotebookNode, *, where_from: bool = True) -> list[list[Any]]:
    """Each code cell's outputs as "current" compares them (images by their size).

    ``where_from=False`` leaves out the provenance's word on where each answer
    came from (live or replayed), to compare a recording run with its replay.
    """
    cells = []
    for cell in code_cells(nb):
        outputs = []
        for o in cell.get("outputs", []):
            o = nbformat.from_dict(copy.deepcopy(dict(o)))
            data = o.get("data", {})
            for kind, value in data.items():
                if kind == "image/png":
                    data[kind] = _png_size(value)
                elif isinstance(value, str) and _INLINE_PNG.search(value):
                    data[kind] = _INLINE_PNG.sub(lambda m: _png_size(m[1]), value)
            said = o.get("metadata", {}).get("nscale")
            if said is not None and not where_from:
                said.pop("source", None)
                said.pop("cassette", None)
            outputs.append(o)
        cells.append(outputs)
    return cells


def _without_images(nb: nbformat.NotebookNode) -> Any:
    nb = copy.deepcopy(nb)
    for cell in code_cells(nb):
        for o in cell.get("outputs", []):
            for kind in ("image/png", "image/jpeg"):
                if kind in o.get("data", {}):
                    o["data"][kind] = ""
    return nb


def problems(nb: nbformat.NotebookNode) -> list[str]:
    """What is wrong with a committed notebook: not run, errors, widget state, a key, a path."""
    found = []
    counts = [c.get("execution_count") for c in code_cells(nb)]
    if counts != list(range(1, len(counts) + 1)):
        found.append(f"not run top to bottom in one kernel (execution counts {counts})")
    for i, cell in enumerate(code_cells(nb)):
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                found.append(f"code cell {i}: {o.get('ename')}: {o.get('evalue')}")
            if WIDGET_VIEW in o.get("data", {}):
                found.append(f"code cell {i}: a widget view (a model id of one kernel)")
    if "widgets" in nb.metadata:
        found.append("metadata holds widget state")
    text = nbformat.writes(_without_images(nb))  # base64 could spell anything
    if SENTINEL_KEY in text:
        found.append("the recording's key is in the notebook")
    # Where, not what: the check's message must not show a key either.
    found += [f"something like a key at character {m.start()}" for m in KEY_LIKE.finditer(text)]
    if str(ROOT) in text or MACHINE_PATHS.search(text):
        found.append("a machine's path is in the notebook")
    return found


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    bad = 0
    for path in paths:
        found = problems(nbformat.read(path, as_version=4))
        if found:
            bad += 1
            print(f"{path}: {'; '.join(found)} (rewrite it: make notebooks)")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
