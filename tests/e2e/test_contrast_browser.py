"""Every text of every chat output meets WCAG's 4.5:1, on JupyterLab light and dark
and on a static page.

The pages: a gallery notebook of every kind of output (tests/gallery.py:
tool cards in each status, reasoning, heatmaps, n > 1, cut-off, compare with a
failed value, branch, prompt heatmap, history, notices, the panel's error) and
the committed notebooks with their recorded outputs. Opened trusted in
JupyterLab 4 (light, then dark: rendered as a cell that ran renders them) and
as nbconvert's HTML with JavaScript off; the .html transcript export on its
own. ``tests/e2e/contrast.py`` measures each visible text against what is
behind it. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

from nscale_jupyter._transcript import Answer, Transcript
from nscale_jupyter._types import Message, ToolCall
from nscale_jupyter.display._export import transcript_html
from tests.conftest import require
from tests.gallery import write_gallery

from .browser import CHROMIUM, browser_page, jupyter_lab, screenshot
from .contrast import OUTPUTS, contrast
from .test_static_browser import render

pytestmark = [pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = sorted((ROOT / "notebooks").glob("*.ipynb"))
THEMES = {
    "light": "JupyterLab Light",
    "dark": "JupyterLab Dark",
}


def notebooks(folder: Path) -> list[Path]:
    """The gallery and copies of the committed notebooks (outputs kept) in ``folder``.

    Each copy is marked with the folder's name: a notebook is trusted by its
    contents, so a copy signed in one folder must not be trusted in another.
    """
    paths = [write_gallery(folder / "gallery.ipynb")]
    for path in COMMITTED:
        nb = nbformat.read(path, as_version=4)
        nb.metadata["contrast_copy"] = folder.name
        nbformat.write(nb, folder / path.name)
        paths.append(folder / path.name)
    return paths


def ours(path: Path) -> int:
    """How many outputs of ``path`` are ours (they carry an ``nscale-`` class)."""
    nb = nbformat.read(path, as_version=4)
    return sum(
        any("nscale-" in "".join(v) for k, v in o.get("data", {}).items() if k.startswith("text/"))
        for c in nb.cells
        for o in c.get("outputs", [])
    )


def measure(page: Any, name: str, expected: int, low: dict[str, list[Any]]) -> int:
    """Measure ``page`` (all our outputs must be there); keep what is below 4.5:1 in ``low``."""
    reading = contrast(page)
    assert reading.outputs >= expected, name
    if reading.failures:
        low[name] = reading.low()
    return reading.checked


def test_static_pages_read(tmp_path: Path) -> None:
    require(Path(CHROMIUM).exists(), "chromium missing: bash scripts/install_browser.sh")
    checked, low = 0, {}
    with browser_page(javascript=False) as page:
        for path in notebooks(tmp_path):
            page.goto(render(path, tmp_path).as_uri())
            checked += measure(page, path.name, ours(path), low)
            if path.stem == "gallery":
                screenshot(page, "contrast-gallery-static.png")
        page.goto(export_page(tmp_path).as_uri())
        reading = contrast(page, roots="body")
        assert reading.checked > 10
        if reading.failures:
            low["export.html"] = reading.low()
    assert checked > 300
    assert low == {}


def export_page(folder: Path) -> Path:
    """The .html export of a thread with reasoning, a call, a cut-off reply and a wait."""
    call = ToolCall("call-1", "get_weather", '{"city": "Oslo"}')
    messages = (
        Message.user("Weather in Oslo?"),
        Message.assistant("Let me look.", (call,)),
        Message.tool("call-1", "sunny"),
        Message("assistant", "Sunny", truncated=True),
    )
    t = Transcript(thread="t", messages=messages, system="Be brief.",
                   answers={1: Answer("The user asks.", None)},
                   pending=(call,))  # fmt: skip
    path = folder / "export.html"
    path.write_text(transcript_html(t))
    return path


def trust(paths: list[Path], data_dir: Path) -> None:
    """Sign the notebooks, so JupyterLab renders their outputs as a run cell's."""
    env = {**os.environ, "JUPYTER_DATA_DIR": str(data_dir)}
    subprocess.run([sys.executable, "-m", "jupyter", "trust", *map(str, paths)],
                   env=env, check=True, capture_output=True)  # fmt: skip


@pytest.mark.parametrize("theme", sorted(THEMES))
def test_outputs_read_in_jupyterlab(theme: str, tmp_path: Path) -> None:
    """Trusted (as a cell that ran shows them) and untrusted (sanitized: a shared notebook)."""
    require(Path(CHROMIUM).exists(), "chromium missing: bash scripts/install_browser.sh")
    root, data = tmp_path / "root", tmp_path / "data"
    opened: list[Path] = []
    for kind in ("trusted", "untrusted"):
        (root / kind).mkdir(parents=True)
        opened += notebooks(root / kind)
    trust([p for p in opened if p.parent.name == "trusted"], data)
    settings = {"@jupyterlab/apputils-extension/themes": json.dumps({"theme": THEMES[theme]})}
    checked, low = 0, {}
    env = {"JUPYTER_DATA_DIR": str(data)}
    with jupyter_lab(root, env, settings=settings) as lab, browser_page() as page:
        for path in opened:
            name = f"{path.parent.name}/{path.name}"
            expected = ours(path)
            page.goto(lab.notebook_url(name))
            page.wait_for_function(
                "([sel, n]) => document.querySelectorAll(sel).length >= n",
                arg=[OUTPUTS, expected],
            )
            light = page.evaluate("document.body.dataset.jpThemeLight")
            assert light == ("true" if theme == "light" else "false")
            checked += measure(page, name, expected, low)
            if path.stem == "gallery":
                style = page.locator(".nscale-error").first.get_attribute("style")
                signed = path.parent.name == "trusted"
                assert ("color-mix" in (style or "")) == signed  # trusted: styles kept
                screenshot(page, f"contrast-gallery-{path.parent.name}-{theme}.png")
                page.locator(".nscale-heatmap").first.scroll_into_view_if_needed()
                screenshot(page, f"contrast-heatmap-{path.parent.name}-{theme}.png")
    assert checked > 600
    assert low == {}
