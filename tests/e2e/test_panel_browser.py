"""The panel in JupyterLab and Notebook 7 (headless Chromium): a key moves a slider,
the live reply follows; the static snapshot beside it stays hidden under the live panel.

Uses the JupyterLab/Chromium helpers of ``tests/e2e/browser.py`` and the
session-wide ``engine`` fixture (the local vLLM engine) of ``tests/conftest.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
from playwright.sync_api import expect

from tests.conftest import require

from .browser import CHROMIUM, browser_page, jupyter_lab, run_all, screenshot
from .kernel import SENTINEL_KEY

pytestmark = [pytest.mark.browser, pytest.mark.engine]

REPLY = ".nscale-panel-reply"
READOUT = ".nscale-panel-readout"


def settled_reply(page: Any, other_than: str = "", showing: str = "tiny-chat ·") -> str:
    """Wait for a finished live reply (its footer names the model) unlike ``other_than``."""
    page.wait_for_function(
        "([sel, old, text]) => { const e = document.querySelector(sel);"
        " return e && e.innerHTML !== old && e.textContent.includes('tiny-chat ·')"
        " && e.textContent.includes(text) }",
        arg=[REPLY, other_than, showing],
        timeout=120_000,
    )
    return str(page.locator(REPLY).inner_html())


def move(page: Any, row: Any, presses: int, value: str, frontend: str) -> None:
    """Move a slider ``presses`` steps left with the keyboard, to ``value``.

    Notebook 7 keeps a slider's arrow keys (its keydown arrives prevented), so
    there the slider's editable readout is typed into instead.
    """
    if frontend == "lab":
        row.locator(".noUi-handle").focus()
        for _ in range(presses):  # quick presses: one run, with the last value
            page.keyboard.press("ArrowLeft")
        return
    row.locator(".widget-readout").click()
    page.keyboard.press("Control+A")
    page.keyboard.type(value)
    page.keyboard.press("Enter")


@pytest.mark.parametrize("frontend", ["lab", "notebook7"])
def test_panel_live_reply_follows_the_keyboard(engine: Any, tmp_path: Path, frontend: str) -> None:
    require(Path(CHROMIUM).exists(), "chromium missing: bash scripts/install_browser.sh")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in (
        "%load_ext nscale_jupyter",
        "%chat set max_tokens=24 seed=1",
        "%%chat\nTell me a story.",
        "%chat panel",
    )]  # fmt: skip
    nbformat.write(nb, tmp_path / "panel.ipynb")
    env = {"NSCALE_BASE_URL": engine.base_url, "NSCALE_API_KEY": SENTINEL_KEY}
    with jupyter_lab(tmp_path, env) as lab, browser_page() as page:
        url = lab.notebook_url if frontend == "lab" else lab.notebook7_url
        page.goto(url("panel.ipynb"))
        run_all(page, until="() => document.querySelector('.nscale-panel')")
        snapshot = page.locator(".nscale-panel-snapshot")
        expect(snapshot).to_have_count(1)  # there for a static page, hidden under the panel
        expect(snapshot).to_be_hidden()
        row = page.locator(
            ".widget-hbox", has=page.locator(".widget-label:text-is('temperature')")
        )
        slider_readout = row.locator(".widget-readout")
        readout = page.locator(READOUT)
        assert "temperature" not in readout.inner_text()  # unset: not sent
        page.locator(".widget-toggle-button:has-text('live')").click()
        move(page, row, 1, "0.95", frontend)  # moving the slider sets the option: a live run
        page.wait_for_function(
            "sel => document.querySelector(sel).textContent.includes('temperature=0.95')",
            arg=READOUT,
        )
        assert slider_readout.inner_text() == "0.95"
        expect(row.locator("input[type=checkbox]").first).to_be_checked()
        first = settled_reply(page)
        assert "<sub" in first and "&lt;sub" not in first  # Markdown rendered, as in a cell
        # The reply and the keep button are two widgets: wait for the button's update.
        expect(page.locator("button:has-text('keep')")).to_be_enabled(timeout=30_000)
        move(page, row, 10, "0.45", frontend)
        page.wait_for_function(
            "sel => document.querySelector(sel).textContent.includes('temperature=0.45')",
            arg=READOUT,
        )
        assert slider_readout.inner_text() == "0.45"
        second = settled_reply(page, other_than=first)
        assert "nscale-error" not in second  # not an error
        tokens = page.locator(
            ".widget-hbox", has=page.locator(".widget-label:text-is('max_tokens')")
        )
        move(page, tokens, 4, "20", frontend)  # the newest settings' reply: 20 tokens, cut
        third = settled_reply(page, other_than=second, showing="+ 20 completion tokens")
        assert "length" in third
        assert SENTINEL_KEY not in page.content()
        expect(snapshot).to_be_hidden()
        page.locator(".nscale-panel").scroll_into_view_if_needed()
        screenshot(page, f"panel-live-{frontend}.png")
