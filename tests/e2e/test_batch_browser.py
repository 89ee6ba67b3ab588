"""A batch left running (``%%chat --over VAR --no-wait``) in JupyterLab (headless Chromium).

The cell ends at once and the next cells run while every row waits at a
loopback server's gate; a later cell opens it. The bar in the batch's own
cell then moves on to "6/6 done": its updates reach the cell they belong
to, not the cell running when they come.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tests.batch.helpers import Gated
from tests.conftest import require
from tests.servers.fault_server import FaultServer

from .browser import CHROMIUM, browser_page, jupyter_lab, run_all, screenshot
from .kernel import SENTINEL_KEY

pytestmark = pytest.mark.browser

CELL_TEXT = "document.querySelectorAll('.jp-CodeCell')[{n}].querySelector('.jp-OutputArea')"


def test_a_batch_left_running_keeps_its_bar_moving(tmp_path: Path) -> None:
    require(Path(CHROMIUM).exists(), "chromium missing: bash scripts/install_browser.sh")
    with FaultServer() as srv:
        srv.respond = Gated()  # type: ignore[assignment]
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(s) for s in (
            "%load_ext nscale_jupyter\nitems = [f'q{i}' for i in range(6)]",
            "%%chat --over items --no-wait --out job --concurrency 2 -m fake\nQ: {item}",
            "print('still running:', not job.done())",
            f"import urllib.request; urllib.request.urlopen({srv.base_url + '/open'!r})\n"
            "print('answers:', len(job.result(timeout=60).answers))",
        )]  # fmt: skip
        nbformat.write(nb, tmp_path / "batch.ipynb")
        env = {"NSCALE_BASE_URL": srv.base_url, "NSCALE_API_KEY": SENTINEL_KEY}
        with jupyter_lab(tmp_path, env) as lab, browser_page() as page:
            page.goto(lab.notebook_url("batch.ipynb"))
            run_all(page)
            outputs = [page.evaluate(f"() => {CELL_TEXT.format(n=n)}.innerText") for n in range(4)]
            assert "still running: True" in outputs[2]
            assert "answers: 6" in outputs[3]
            page.wait_for_function(
                f"() => {CELL_TEXT.format(n=1)}.innerText.includes('6/6 done')", timeout=30_000
            )
            bar = page.locator(".jp-CodeCell").nth(1).locator(".widget-hprogress")
            assert bar.count() == 1
            screenshot(page, "batch-no-wait.png")
