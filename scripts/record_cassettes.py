"""Record notebooks/cassettes/: every notebook run against the local engine, its answers taped.

    make cassettes                    # all notebooks (starts and stops the engine)
    python scripts/record_cassettes.py quickstart tools

For each notebook NAME this writes ``notebooks/cassettes/NAME.jsonl`` (recorded
afresh, mode ``record``) and ``NAME.outputs.json``: what each code cell showed,
with only kernel-volatile fields removed (images as their SHA-256), which the
kernel test compares a replay with. Re-run it whenever the tiny model changes.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
CASSETTES = NOTEBOOKS / "cassettes"
SENTINEL_KEY = "sk-SENTINEL-cassette-record-93ad"
#: Nothing listens here: a replay that tried the network would fail loudly.
CLOSED_URL = "http://127.0.0.1:9/v1"
_IMAGES = ("image/png", "image/jpeg")


def names() -> list[str]:
    return sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))


def shown(nb: nbformat.NotebookNode) -> list[list[dict[str, Any]]]:
    """Each code cell's outputs without what the kernel makes up afresh every run.

    Removed: widget model ids, and the provenance's word on where an answer
    came from (``source``, ``cassette``: the one thing a replay may change).
    Images are kept as their SHA-256.
    """
    out = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for o in cell.get("outputs", []):
            o = copy.deepcopy(dict(o))
            data = dict(o.get("data", {}))
            for kind in _IMAGES:
                if kind in data:
                    data[kind] = "sha256:" + hashlib.sha256(data[kind].encode()).hexdigest()
            view = data.get("application/vnd.jupyter.widget-view+json")
            if isinstance(view, Mapping):
                data["application/vnd.jupyter.widget-view+json"] = {
                    k: v for k, v in view.items() if k != "model_id"
                }
            if "data" in o:
                o["data"] = data
            meta = o.get("metadata", {}).get("nscale")
            if isinstance(meta, Mapping):
                o["metadata"] = {
                    **o["metadata"],
                    "nscale": {k: v for k, v in meta.items() if k not in ("source", "cassette")},
                }
            o.pop("execution_count", None)
            outputs.append(_plain(o))
        out.append(outputs)
    return out


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value))


def run(
    name: str, base_url: str, mode: str, cassette: Path | None = None, timeout: int = 300
) -> nbformat.NotebookNode:
    """Execute notebook NAME in a fresh kernel, with its cassette in ``mode``."""
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    tape = cassette or CASSETTES / f"{name}.jsonl"
    env = {"NSCALE_BASE_URL": base_url, "NSCALE_API_KEY": SENTINEL_KEY}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits the environment it starts with
    try:
        NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            allow_errors=True,
            record_timing=False,
            resources={"metadata": {"path": str(NOTEBOOKS)}},
            # What a course's jupyter-config would set: the cassette, for every cell.
            extra_arguments=[
                f"--ChatSettings.cassette={tape}",
                f"--ChatSettings.cassette_mode={mode}",
            ],
        ).execute()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return nb


def errors(nb: nbformat.NotebookNode) -> list[str]:
    return [
        f"{o.get('ename')}: {o.get('evalue')}"
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]


def record(name: str, base_url: str) -> None:
    tape = CASSETTES / f"{name}.jsonl"
    tape.unlink(missing_ok=True)  # afresh: no answer of an older model stays
    nb = run(name, base_url, "record")
    problems = errors(nb)
    if problems:
        raise SystemExit(f"{name}: {problems}")
    # The engine's model list names the model's directory: no machine's path is committed.
    text = tape.read_text().replace(str(ROOT), "<repo>")
    tape.write_text(text)
    if SENTINEL_KEY in text:
        raise SystemExit(f"{name}: the key reached the cassette")
    outputs = json.dumps(shown(nb), indent=1, sort_keys=True, ensure_ascii=False)
    (CASSETTES / f"{name}.outputs.json").write_text(outputs + "\n")
    print(f"{name}: {len(text.splitlines()) - 1} recordings")


def main(argv: list[str]) -> int:
    from nscale_jupyter.local import start

    wanted = argv or names()
    CASSETTES.mkdir(exist_ok=True)
    engine = start()
    try:
        for name in wanted:
            record(name, engine.base_url)
    finally:
        engine.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
