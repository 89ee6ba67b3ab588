"""The quickstart in Notebook 7, and in JupyterLab's dark theme, replayed from its cassette.

No engine: the kernel replays ``notebooks/cassettes/quickstart.jsonl`` (set in
its IPython config, as a course would), against an address where nothing
listens. In both (Notebook 7 in its light theme, JupyterLab dark) every text
of every chat output must meet WCAG's 4.5:1 contrast against what is behind
it (tests/e2e/contrast.py); a screenshot of each run goes to test-artifacts/.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from scripts.record_cassettes import CASSETTES, CLOSED_URL
from tests.conftest import require

from .browser import (
    CHROMIUM,
    browser_page,
    clean_copy,
    jupyter_lab,
    run_all,
    screenshot,
)
from .contrast import contrast
from .kernel import SENTINEL_KEY

pytestmark = [pytest.mark.browser, pytest.mark.kernel]

ROOT = Path(__file__).resolve().parents[2]
DARK = {"@jupyterlab/apputils-extension/themes": '{"theme": "JupyterLab Dark"}'}


def replaying(tmp_path: Path) -> dict[str, str]:
    """The kernel's environment: the quickstart's cassette in replay mode, no engine."""
    tape = tmp_path / "quickstart.jsonl"
    shutil.copy(CASSETTES / "quickstart.jsonl", tape)
    profile = tmp_path / "ipython" / "profile_default"
    profile.mkdir(parents=True)
    (profile / "ipython_kernel_config.py").write_text(
        f"c.ChatSettings.cassette = {str(tape)!r}\nc.ChatSettings.cassette_mode = 'replay'\n"
    )
    clean_copy(ROOT / "notebooks" / "quickstart.ipynb", tmp_path / "quickstart.ipynb")
    return {
        "IPYTHONDIR": str(tmp_path / "ipython"),
        "NSCALE_BASE_URL": CLOSED_URL,
        "NSCALE_API_KEY": SENTINEL_KEY,
    }


def check_quickstart(page: Any) -> None:
    """What the quickstart shows, every text of its chat outputs at 4.5:1 or more."""
    text = page.inner_text(".jp-Notebook")
    assert "tiny-chat ·" in text  # a streamed reply's footer
    assert "Error" not in text and "Traceback" not in text
    assert page.locator(".nscale-toolcard").count() >= 1
    assert page.locator(".nscale-heatmap").count() >= 1
    assert page.locator(".jp-OutputArea-output img").count() >= 1  # the logprob plot
    assert SENTINEL_KEY not in page.content()
    reading = contrast(page)
    assert reading.outputs >= 12 and reading.checked > 100
    assert reading.low() == []


def test_quickstart_in_notebook7(tmp_path: Path) -> None:
    require(Path(CHROMIUM).exists(), "chromium missing: bash scripts/install_browser.sh")
    env = replaying(tmp_path)
    with jupyter_lab(tmp_path, env) as lab, browser_page() as page:
        page.goto(lab.notebook7_url("quickstart.ipynb"))
        run_all(page)
        assert page.locator("#top-panel, .jp-NotebookPanel").count() >= 1
        assert "/notebooks/" in page.url  # Notebook 7, not JupyterLab
        check_quickstart(page)
        page.locator(".nscale-heatmap").first.scroll_into_view_if_needed()
        screenshot(page, "quickstart-notebook7.png")


def test_quickstart_reads_in_jupyterlab_dark(tmp_path: Path) -> None:
    require(Path(CHROMIUM).exists(), "chromium missing: bash scripts/install_browser.sh")
    env = replaying(tmp_path)
    with jupyter_lab(tmp_path, env, settings=DARK) as lab, browser_page() as page:
        page.goto(lab.notebook_url("quickstart.ipynb"))
        run_all(page)
        assert page.evaluate("document.body.dataset.jpThemeLight") == "false"  # dark
        check_quickstart(page)
        page.locator(".nscale-heatmap").first.scroll_into_view_if_needed()
        screenshot(page, "quickstart-dark.png")
