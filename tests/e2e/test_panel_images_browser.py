"""Images into the panel in JupyterLab (headless Chromium): a file chosen in the browser goes
with the panel's prompt; a file that is no image, however it is named, is named as text.

A loopback server (tests/servers/conversation.py) answers and keeps every body.
"""

from __future__ import annotations

import base64
from pathlib import Path

import nbformat
import pytest

from tests.conftest import require
from tests.servers import conversation
from tests.servers.conversation import PNG
from tests.servers.fault_server import FaultServer

from .browser import CHROMIUM, browser_page, jupyter_lab, run_all, screenshot
from .kernel import SENTINEL_KEY

pytestmark = pytest.mark.browser

PANEL = ".nscale-panel"
HOSTILE = "<img src=x onerror=\"document.title='pwned'\">.png"


def test_an_image_chosen_in_the_browser_goes_with_the_prompt(tmp_path: Path) -> None:
    require(Path(CHROMIUM).exists(), "chromium missing: bash scripts/install_browser.sh")
    files = tmp_path / "files"
    files.mkdir()
    (files / "dot.png").write_bytes(base64.b64decode(PNG.partition(",")[2]))
    (files / HOSTILE).write_bytes(b"<svg onload=alert(1)>")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("%load_ext nscale_jupyter\n%chat panel")]
    nbformat.write(nb, tmp_path / "panel.ipynb")
    with FaultServer() as srv:
        srv.respond = conversation.respond
        env = {"NSCALE_BASE_URL": srv.base_url, "NSCALE_API_KEY": SENTINEL_KEY}
        with jupyter_lab(tmp_path, env) as lab, browser_page() as page:
            page.goto(lab.notebook_url("panel.ipynb"))
            run_all(page, until=f"() => document.querySelector('{PANEL}')")
            row = page.locator(".nscale-panel-images")
            with page.expect_file_chooser(timeout=30_000) as chooser:
                row.locator("button.widget-upload, .widget-upload").first.click(timeout=30_000)
            chooser.value.set_files([str(files / "dot.png"), str(files / HOSTILE)])
            page.wait_for_function(
                "() => document.querySelector('.nscale-panel-images').textContent"
                ".includes('1 image')"
            )
            assert "not sent" in row.inner_text() and HOSTILE in row.inner_text()
            page.locator(f"{PANEL} textarea[placeholder='prompt']").fill("What is this?")
            page.locator(f"{PANEL} button:text-is('run')").click()
            page.wait_for_function(
                "() => document.querySelector('.nscale-panel-reply').textContent"
                ".includes('Echo: What is this?')"
            )
            screenshot(page, "panel-images.png")
            assert page.title() != "pwned"
    sent = [r.json for r in srv.requests if r.json and "messages" in r.json]
    assert sent[-1]["messages"][-1]["content"] == [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": PNG}},
    ]
