"""JupyterLab in headless Chromium: the quickstart runs, and the panel reacts to the keyboard."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tests.conftest import require

from .browser import CHROMIUM, browser_page, jupyter_lab, screenshot
from .kernel import SENTINEL_KEY

pytestmark = [pytest.mark.browser, pytest.mark.engine]

ROOT = Path(__file__).resolve().parents[2]


def run_all(page: Any) -> None:
    page.wait_for_selector(".jp-Notebook .jp-Cell", state="visible")
    with contextlib.suppress(Exception):  # a fresh JupyterLab asks which kernel to start
        page.locator(".jp-Dialog .jp-mod-accept").click(timeout=15_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
    page.click("div.lm-MenuBar-itemLabel:text-is('Run')")
    page.click("li[data-command='runmenu:run-all']")
    page.wait_for_function(
        "() => { const p = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]"
        ".map(e => e.textContent); return p.length && p.every(t => /\\[\\d+\\]/.test(t))"
        " && document.querySelector(\".jp-Notebook-ExecutionIndicator[data-status='idle']\") }",
        timeout=300_000,
    )


def test_quickstart_in_jupyterlab(engine: Any, tmp_path: Path) -> None:
    require(Path(CHROMIUM).exists(), "chromium missing: bash scripts/install_browser.sh")
    shutil.copy(ROOT / "notebooks" / "quickstart.ipynb", tmp_path / "quickstart.ipynb")
    env = {"NSCALE_BASE_URL": engine.base_url, "NSCALE_API_KEY": SENTINEL_KEY}
    with jupyter_lab(tmp_path, env) as lab, browser_page() as page:
        page.goto(lab.notebook_url("quickstart.ipynb"))
        run_all(page)
        text = page.inner_text(".jp-Notebook")
        assert "tiny-chat ·" in text  # a streamed reply's footer
        assert page.locator(".nscale-toolcard").count() >= 1
        assert page.locator(".nscale-heatmap").count() >= 1
        assert page.locator(".jp-OutputArea-output img").count() >= 1  # the logprob plot
        assert SENTINEL_KEY not in page.content()
        # The registered tool's card, its answer, then the logprobs cell below it.
        page.locator(".nscale-toolcard").last.evaluate("e => e.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(500)
        shot = screenshot(page, "quickstart-lab.png")
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copy(shot, ROOT / "docs" / "screenshot.png")
        page.locator(".nscale-heatmap").first.scroll_into_view_if_needed()
        screenshot(page, "quickstart-heatmap.png")


def test_panel_live_reply_follows_the_keyboard(engine: Any, tmp_path: Path) -> None:
    require(Path(CHROMIUM).exists(), "chromium missing: bash scripts/install_browser.sh")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in (
        "%load_ext nscale_jupyter",
        "%%chat -t 0.5 --max-tokens 24 --seed 1\nTell me a story.",
        "%chat panel",
    )]  # fmt: skip
    nbformat.write(nb, tmp_path / "panel.ipynb")
    env = {"NSCALE_BASE_URL": engine.base_url, "NSCALE_API_KEY": SENTINEL_KEY}
    with jupyter_lab(tmp_path, env) as lab, browser_page() as page:
        page.goto(lab.notebook_url("panel.ipynb"))
        run_all(page)
        row = page.locator(
            ".widget-hbox", has=page.locator(".widget-label:text-is('temperature')")
        )
        row.locator("input[type=checkbox]").first.check()
        page.locator(".widget-toggle-button:has-text('live')").click()
        readout = row.locator(".widget-readout")
        before = readout.inner_text()
        handle = row.locator(".noUi-handle")
        handle.focus()
        for _ in range(4):
            page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "([el, old]) => el.textContent.trim() !== old", arg=[readout.element_handle(), before]
        )
        after = readout.inner_text()
        assert after != before
        page.wait_for_function(
            "() => [...document.querySelectorAll('.widget-html-content')]"
            ".some(e => e.textContent.includes('tiny-chat'))",
            timeout=120_000,
        )
        reply = page.locator(".widget-html-content", has_text="tiny-chat").last
        first = reply.inner_html()
        handle.focus()
        page.keyboard.press("ArrowRight")  # the live reply re-runs with the new value
        page.wait_for_function(
            "([el, old]) => el.innerHTML !== old && el.textContent.includes('tiny-chat')",
            arg=[reply.element_handle(), first],
            timeout=120_000,
        )
        assert readout.inner_text() != after
        screenshot(page, "panel-live.png")
