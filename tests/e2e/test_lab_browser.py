"""JupyterLab in headless Chromium: the quickstart runs top to bottom."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require

from .browser import CHROMIUM, browser_page, clean_copy, jupyter_lab, run_all, screenshot
from .kernel import SENTINEL_KEY

pytestmark = [pytest.mark.browser, pytest.mark.engine]

ROOT = Path(__file__).resolve().parents[2]


def test_quickstart_in_jupyterlab(engine: Any, tmp_path: Path) -> None:
    require(Path(CHROMIUM).exists(), "chromium missing: bash scripts/install_browser.sh")
    # Run afresh: the committed notebook already shows every output.
    clean_copy(ROOT / "notebooks" / "quickstart.ipynb", tmp_path / "quickstart.ipynb")
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
        if os.environ.get("NSCALE_UPDATE_SCREENSHOT") == "1":  # the README's picture
            shutil.copy(shot, ROOT / "docs" / "screenshot.png")
        page.locator(".nscale-heatmap").first.scroll_into_view_if_needed()
        screenshot(page, "quickstart-heatmap.png")
