"""`make demo`: run the quickstart notebook for real and write its executed copy.

With no NSCALE_API_KEY, the local vLLM engine (the tiny model) is started
and the kernel talks to it; with a key, the notebook talks to nscale.
Writes build/quickstart.ipynb and build/quickstart.html.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.encrypted_kernels import ENCRYPTED  # noqa: E402


def main() -> int:
    source = ROOT / "notebooks" / "quickstart.ipynb"
    build = ROOT / "build"
    build.mkdir(exist_ok=True)
    engine = None
    if not os.environ.get("NSCALE_API_KEY"):
        from nscale_jupyter.local import start

        print("no NSCALE_API_KEY: starting the local vLLM engine (about a minute)...", flush=True)
        started = time.perf_counter()
        engine = start()
        print(f"engine ready in {time.perf_counter() - started:.0f} s at {engine.base_url}")
        os.environ["NSCALE_BASE_URL"] = engine.base_url
    else:
        print(
            "NSCALE_API_KEY is set: running against",
            os.environ.get("NSCALE_BASE_URL", "the nscale API"),
        )
    try:
        nb = nbformat.read(source, as_version=4)
        started = time.perf_counter()
        NotebookClient(
            nb,
            timeout=300,
            kernel_name="python3",
            config=ENCRYPTED,
            allow_errors=True,
            resources={"metadata": {"path": str(source.parent)}},
        ).execute()
        print(f"executed {source.name} in {time.perf_counter() - started:.1f} s")
    finally:
        if engine is not None:
            engine.stop()
    out = build / "quickstart.ipynb"
    nbformat.write(nb, out)
    html, _ = HTMLExporter().from_notebook_node(nb)
    (build / "quickstart.html").write_text(html, encoding="utf-8")
    errors = [
        f"cell {i}: {o.get('ename')}: {o.get('evalue')}"
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    print(f"wrote {out} and {build / 'quickstart.html'}")
    for error in errors:
        print("error in", error, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
