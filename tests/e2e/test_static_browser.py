"""The committed notebooks as a page with no kernel and no JavaScript shows them.

Each notebook is rendered by nbconvert's HTML exporter and opened in headless
Chromium with JavaScript off and the network refused: every chat output's
text is visible (the reply as its text/plain has it, the panel's snapshot,
each compared answer), no widget shows as its Python repr or a bare
"Loading widget...", and the heatmap's alternatives open with no hover.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tests.conftest import require

from .browser import ARTIFACTS, CHROMIUM, browser_page

pytestmark = [pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
REPRS = ("VBox(", "HBox(", "Output(", "IntSlider(", "FloatSlider(", "Tab(", "Dropdown(")


def words(text: str) -> str:
    """Letters and digits only, lower-cased: what must show, whatever the markup."""
    return re.sub(r"[\W_]+", "", text).lower()


def shown_lines(plain: str) -> list[str]:
    """The lines of a chat output's text/plain that the page must show.

    Reasoning stays folded (a closed <details>) and tool calls are on cards
    of their own: neither is part of the reply's visible text.
    """
    plain = re.sub(r"\[reasoning\]\n.*?\n\[/reasoning\]\n", "", plain, flags=re.S)
    return [line for line in plain.splitlines() if line.strip() and not line.startswith("-> ")]


def chat_outputs(nb: nbformat.NotebookNode) -> list[tuple[int, str]]:
    """(code cell, text/plain) of every reply, panel snapshot and comparison."""
    found = []
    code = [c for c in nb.cells if c.cell_type == "code"]
    for i, cell in enumerate(code):
        for o in cell.get("outputs", []):
            data, meta = o.get("data", {}), o.get("metadata", {})
            plain = data.get("text/plain", "")
            if "nscale" in meta or plain.startswith(("nscale panel (a snapshot)", "[")):
                found.append((i, plain))
    return found


def render(path: Path, out: Path) -> Path:
    from nbconvert import HTMLExporter

    html, _ = HTMLExporter(template_name="lab").from_notebook_node(
        nbformat.read(path, as_version=4)
    )
    target = out / f"{path.stem}.html"
    target.write_text(html)
    return target


def test_every_chat_output_reads_with_no_kernel_and_no_javascript(tmp_path: Path) -> None:
    require(Path(CHROMIUM).exists(), "chromium missing: bash scripts/install_browser.sh")
    fetched: list[str] = []

    def local_only(route: Any) -> None:
        url = route.request.url
        if url.startswith("file:"):
            route.continue_()
        else:
            fetched.append(url)
            route.abort()

    with browser_page(javascript=False) as page:
        page.context.route("**/*", local_only)
        for path in NOTEBOOKS:
            nb = nbformat.read(path, as_version=4)
            assert chat_outputs(nb), path.name  # the check has something to check
            page.goto(render(path, tmp_path).as_uri())
            text = page.inner_text("body")
            visible = words(text)
            for cell, plain in chat_outputs(nb):
                missing = [x for x in shown_lines(plain) if words(x) not in visible]
                assert not missing, f"{path.name} code cell {cell}: not visible: {missing[:3]}"
            assert not [r for r in REPRS if r in text], path.name
            assert "Loading widget" not in text and "Error displaying widget" not in text
            pngs = sum(
                "image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", [])
            )
            assert page.locator(".jp-OutputArea-output img[src^='data:image/png']").count() >= pngs
            heatmaps = page.locator(".nscale-heatmap-alternatives")
            if heatmaps.count():
                table = heatmaps.first
                assert "alternatives" not in words(table.locator("table").inner_text())
                table.locator("summary").click()  # a <details>: opens with no JavaScript
                assert table.locator("tr").count() > 1
                assert "alternatives" in table.locator("table").inner_text()
            if path.stem == "quickstart":
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "quickstart-static.png"))
    assert fetched == []
