"""The panel's what-if in JupyterLab (headless Chromium): sliders redraw, the server hears nothing.

After one run with logprobs, moving the temperature and top_k sliders with
the keyboard must change the what-if image while the engine sees no new
chat request (counted by the engine itself, from its Prometheus /metrics);
"sample" then sends exactly one.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
import nbformat
import pytest

from tests.conftest import require

from .browser import CHROMIUM, browser_page, jupyter_lab, run_all, screenshot
from .kernel import SENTINEL_KEY

pytestmark = [pytest.mark.browser, pytest.mark.engine]

IMAGE = ".nscale-panel-whatif-image"
REPLY = ".nscale-panel-reply"


def chat_requests(engine: Any) -> float:
    """Chat requests the engine has received, from its own metrics."""
    root = engine.base_url.removesuffix("/v1")
    text = httpx.get(root + "/metrics", timeout=30).text
    handled = re.findall(
        r'^http_requests_total\{[^}]*handler="/v1/chat/completions"[^}]*\} ([0-9.e+]+)$',
        text,
        re.M,
    )
    if handled:
        return sum(float(v) for v in handled)
    finished = re.findall(r"^vllm:request_success_total\{[^}]*\} ([0-9.e+]+)$", text, re.M)
    assert finished, "the engine's /metrics counts no requests"
    return sum(float(v) for v in finished)


def slider(page: Any, name: str) -> Any:
    row = page.locator(".widget-hbox", has=page.locator(f".widget-label:text-is('{name}')"))
    return row.locator(".noUi-handle")


def new_image(page: Any, old: str) -> str:
    page.wait_for_function(
        "([sel, old]) => { const e = document.querySelector(sel);"
        " return e && e.src && e.src !== old }",
        arg=[IMAGE, old],
        timeout=60_000,
    )
    return str(page.locator(IMAGE).get_attribute("src"))


def test_whatif_redraws_with_no_request(engine: Any, tmp_path: Path) -> None:
    require(Path(CHROMIUM).exists(), "chromium missing: bash scripts/install_browser.sh")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in (
        "%load_ext nscale_jupyter",
        "%chat set max_tokens=24 seed=1 temperature=0.8 logprobs=true top_logprobs=10",
        "%%chat\nTell me a story.",
        "%chat panel",
    )]  # fmt: skip
    nbformat.write(nb, tmp_path / "whatif.ipynb")
    env = {"NSCALE_BASE_URL": engine.base_url, "NSCALE_API_KEY": SENTINEL_KEY}
    with jupyter_lab(tmp_path, env) as lab, browser_page() as page:
        page.goto(lab.notebook_url("whatif.ipynb"))
        run_all(page, until="() => document.querySelector('.nscale-panel')")
        page.locator(".nscale-panel button:text-is('run')").click()
        first = new_image(page, "")
        page.wait_for_function(
            "sel => document.querySelector(sel).textContent.includes('tiny-chat ·')", arg=REPLY
        )
        sent = chat_requests(engine)
        handle = slider(page, "temperature")
        handle.focus()
        page.keyboard.press("ArrowRight")  # 0.8 -> 0.85: the what-if follows
        second = new_image(page, first)
        for _ in range(6):
            page.keyboard.press("ArrowRight")
        third = new_image(page, second)
        top_k = slider(page, "top_k")
        top_k.focus()
        for _ in range(3):  # -1 (off) -> 2
            page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "() => document.querySelector('.nscale-panel-readout').textContent.includes('top_k=2')"
        )
        fourth = new_image(page, third)
        assert len({first, second, third, fourth}) == 4
        assert "would sample from 2 of" in page.locator(".nscale-panel-whatif").inner_text()
        assert chat_requests(engine) == sent  # the sliders moved; nothing was asked
        page.locator(".nscale-panel-whatif").scroll_into_view_if_needed()
        screenshot(page, "panel-whatif.png")
        page.locator(".nscale-panel-whatif button:text-is('sample')").click()
        for _ in range(1200):  # wait for the run to reach the engine (nothing timed)
            if chat_requests(engine) > sent:
                break
            time.sleep(0.1)
        assert chat_requests(engine) == sent + 1
        assert SENTINEL_KEY not in page.content()
