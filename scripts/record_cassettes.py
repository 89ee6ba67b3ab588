"""Record notebooks/cassettes/ from the local engine, and write notebooks/ with outputs.

    make cassettes                    # record every notebook afresh, then write them
    make notebooks                    # only write the notebooks, replayed from the cassettes
    python scripts/record_cassettes.py [--replay] [quickstart tools ...]

Recording runs each notebook NAME against the engine with its cassette
``notebooks/cassettes/NAME.jsonl`` in mode ``record`` (afresh). Writing
replays it from a copy of that cassette (no engine, no network) and saves
``notebooks/NAME.ipynb`` with the outputs (``check_notebooks.committed``): what
``tests/e2e/test_cassette_replay.py`` checks a replay still shows. Re-run
``make cassettes`` whenever the tiny model changes.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script (make cassettes): scripts/ is importable

from scripts.check_notebooks import SENTINEL_KEY, committed, problems  # noqa: E402
from scripts.encrypted_kernels import ENCRYPTED  # noqa: E402

NOTEBOOKS = ROOT / "notebooks"
CASSETTES = NOTEBOOKS / "cassettes"
#: Nothing listens here: a replay that tried the network would fail loudly.
CLOSED_URL = "http://127.0.0.1:9/v1"

__all__ = ["CASSETTES", "CLOSED_URL", "SENTINEL_KEY", "errors", "names", "replay", "run"]


def names() -> list[str]:
    return sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))


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
            config=ENCRYPTED,
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
    failed = errors(nb)
    if failed:
        raise SystemExit(f"{name}: {failed}")
    # The engine's model list names the model's directory: no machine's path is committed.
    text = tape.read_text().replace(str(ROOT), "<repo>")
    tape.write_text(text)
    if SENTINEL_KEY in text:
        raise SystemExit(f"{name}: the key reached the cassette")
    print(f"{name}: {len(text.splitlines()) - 1} recordings")


def replay(name: str) -> nbformat.NotebookNode:
    """Notebook NAME run from a copy of its cassette (a replay must not write to it)."""
    with tempfile.TemporaryDirectory(prefix="nscale-replay-") as tmp:
        tape = Path(tmp) / f"{name}.jsonl"
        shutil.copy(CASSETTES / f"{name}.jsonl", tape)
        nb = run(name, CLOSED_URL, "replay", cassette=tape)
    return nb


def write(name: str) -> None:
    """Save notebooks/NAME.ipynb with the outputs its cassette replays."""
    path = NOTEBOOKS / f"{name}.ipynb"
    nb = committed(nbformat.read(path, as_version=4), replay(name))
    found = problems(nb)
    if found:
        raise SystemExit(f"{name}: {found}")
    nbformat.write(nb, path)
    print(f"{path.relative_to(ROOT)}: written with its outputs")


def main(argv: list[str]) -> int:
    only_write = "--replay" in argv
    wanted = [a for a in argv if a != "--replay"] or names()
    if not only_write:
        from nscale_jupyter.local import start

        CASSETTES.mkdir(exist_ok=True)
        engine = start()
        try:
            for name in wanted:
                record(name, engine.base_url)
        finally:
            engine.stop()
    for name in wanted:
        write(name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
