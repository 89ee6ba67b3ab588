"""The quickstart notebook, executed for real in a kernel against the local engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest

from .kernel import SENTINEL_KEY, errors, run_notebook

pytestmark = [pytest.mark.kernel, pytest.mark.engine]

NOTEBOOKS = Path(__file__).resolve().parent.parent.parent / "notebooks"


def test_quickstart_runs_top_to_bottom(engine: Any, tmp_path: Path) -> None:
    nb = nbformat.read(NOTEBOOKS / "quickstart.ipynb", as_version=4)
    run_notebook(nb, {"NSCALE_BASE_URL": engine.base_url, "NSCALE_API_KEY": SENTINEL_KEY})
    assert errors(nb) == []
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    kinds = {k for o in outputs for k in o.get("data", {})}
    assert {"text/markdown", "text/html", "image/png"} <= kinds
    replies = [o["data"]["text/markdown"] for o in outputs if "text/markdown" in o.get("data", {})]
    assert len(replies) >= 5 and all("tiny-chat" in r for r in replies)
    cards = [
        o["data"]["text/html"]
        for o in outputs
        if "nscale-toolcard" in o.get("data", {}).get("text/html", "")
    ]
    assert cards and "get_weather" in cards[0]  # the tool call is shown as a card
    # The tool cell: the call names the asked city, the answer restates the result (issue 20).
    (looped,) = [c for c in nb.cells if c.source.startswith("%%chat -t 0 --tools get_weather")]
    shown = [o.get("data", {}) for o in looped.outputs]
    card = next(d["text/html"] for d in shown if "nscale-toolcard" in d.get("text/html", ""))
    answer = [d["text/markdown"] for d in shown if "text/markdown" in d][-1]  # after the result
    assert "Paris" in card and "Paris" in answer and "18" in answer, (card, answer)
    saved = tmp_path / "quickstart.ipynb"
    nbformat.write(nb, saved)
    assert SENTINEL_KEY not in saved.read_text()
    assert SENTINEL_KEY not in json.dumps(outputs)


@pytest.mark.parametrize("name", ["tools.ipynb", "logprobs.ipynb", "sampling.ipynb"])
def test_lesson_notebooks_run(engine: Any, tmp_path: Path, name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    run_notebook(nb, {"NSCALE_BASE_URL": engine.base_url, "NSCALE_API_KEY": SENTINEL_KEY})
    assert errors(nb) == []
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    shown = json.dumps(outputs)
    assert SENTINEL_KEY not in shown and "Traceback" not in shown
    saved = tmp_path / name  # the saved file also holds the widget state
    nbformat.write(nb, saved)
    assert SENTINEL_KEY not in saved.read_text()
    if name == "tools.ipynb":
        assert shown.count("nscale-toolcard") >= 3
        assert "[done]" in shown and "[error]" in shown and "the clock service is down" in shown
        assert "[waiting]" in shown  # --no-run-tools
        last = nb.cells[-1].outputs  # %chat tool-result: the model continued
        assert any("text/markdown" in o.get("data", {}) for o in last)
    elif name == "logprobs.ipynb":
        assert "nscale-heatmap" in shown
        assert sum("image/png" in o.get("data", {}) for o in outputs) == 4
    else:
        assert shown.count("temperature = ") >= 3 and "top_p = " in shown
        assert "presence_penalty = " in shown
        assert any(
            "application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs
        )
        assert "application/vnd.jupyter.widget-state+json" in nb.metadata.get("widgets", {})
        seeded = [o for c in nb.cells if c.source.startswith("first.text") for o in c.outputs]
        assert seeded[0]["data"]["text/plain"] == "True"


def test_token_lab_runs(engine: Any, tmp_path: Path) -> None:
    nb = nbformat.read(NOTEBOOKS / "token_lab.ipynb", as_version=4)
    run_notebook(nb, {"NSCALE_BASE_URL": engine.base_url, "NSCALE_API_KEY": SENTINEL_KEY})
    assert errors(nb) == []
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    shown = json.dumps(outputs)
    assert SENTINEL_KEY not in shown and "Traceback" not in shown
    for marker in ("nscale-heatmap", "nscale-branch", "nscale-compare-summary",
                   "nscale-prompt-heatmap", "distinct answer(s) among 8",
                   "asked without streaming"):  # fmt: skip
        assert marker in shown, marker
    # Every plot has a caption: the markdown cell before it says what it shows.
    for before, cell in zip(nb.cells, nb.cells[1:], strict=False):
        if any("image/png" in o.get("data", {}) for o in cell.get("outputs", [])):
            assert before.cell_type == "markdown" and "Caption" in before.source, cell.source
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 4
    last = nb.cells[-1].outputs  # the what-if redrew twice, with no new run
    assert last[0]["data"]["text/plain"] == "(2, 1)"
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    saved = tmp_path / "token_lab.ipynb"
    nbformat.write(nb, saved)
    assert SENTINEL_KEY not in saved.read_text()
