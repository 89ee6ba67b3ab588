"""Hostile model Markdown rendered for real: JupyterLab 4 and Notebook 7 in Chromium.

A real kernel runs ``%%chat`` once per corpus string (tests/markdown_corpus.py),
the FaultServer streaming the string back as the reply; one more cell shows
the escaper's partial forms (the reply cut every few characters while it
streams) for a sample. The notebook is saved signed, so the front ends render
its outputs as trusted (unsanitised), as they do for outputs of a live
session. Opened in JupyterLab 4 and in Notebook 7, the output areas hold no
script, iframe, object, embed or form, no ``on*`` attribute, no
``javascript:``/``vbscript:``/``data:`` URL, no image with a remote source,
and no math typeset from model text; no request for a corpus image URL
leaves the page. A control cell (outputs written by the test, not the
extension) shows the checks see what they look for.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import nbformat
import pytest
from nbformat.sign import NotebookNotary

from tests.conftest import require
from tests.markdown_corpus import CORPUS, LEAK
from tests.servers.fault_server import FaultServer, Received, Reply, text_reply

from .browser import CHROMIUM, browser_page, jupyter_lab, screenshot
from .kernel import SENTINEL_KEY, errors, notebook, run_notebook

pytestmark = [pytest.mark.browser, pytest.mark.kernel]

SAMPLE = CORPUS[::10]  # each shown at (at most 40) streaming cuts, in a cell of its own
PARTIALS = """\
from IPython.display import display
from nscale_jupyter.display._escape import MarkdownEscaper
text = %r
every = max(3, -(-len(text) // 40))  # front ends fold cells of more than 50 outputs
escaper = MarkdownEscaper()
for i, char in enumerate(text):
    escaper.feed(char)
    if i %% every == every - 1 or i == len(text) - 1:
        display({"text/markdown": escaper.value(), "text/plain": "partial"}, raw=True)
"""
CONTROL = "http://127.0.0.1:9/control-image.png"
CONTROLS = [  # raw Markdown, not escaped: each must trip a check
    '<b onclick="void 0">trusted, unsanitised</b>',
    "$x^2$ and $\\href{http://127.0.0.1:9/}{a math link}$",
    f"![control]({CONTROL})",
]

#: Everything in the output areas (past the control cell) that could act.
SCAN = """() => {
  const banned = new Set(['script', 'iframe', 'object', 'embed', 'form', 'frame', 'frameset',
    'base', 'meta', 'link', 'style', 'input', 'button', 'textarea', 'select', 'video', 'audio',
    'source', 'math', 'template', 'applet', 'portal', 'foreignobject']);
  const cells = [...document.querySelectorAll('.jp-Notebook .jp-Cell')];
  const found = [];
  cells.forEach((cell, index) => {
    for (const out of cell.querySelectorAll('.jp-OutputArea-output')) {
      for (const el of out.querySelectorAll('*')) {
        const tag = el.tagName.toLowerCase();
        const where = `cell ${index}: `;
        if (banned.has(tag)) found.push(where + '<' + tag + '>');
        if (tag.startsWith('mjx-')) found.push(where + 'math typeset <' + tag + '>');
        if (tag === 'svg') found.push(where + '<svg>');
        for (const attr of el.attributes) {
          const name = attr.name.toLowerCase();
          const value = attr.value.replace(/[\\u0000-\\u0020]+/g, '').toLowerCase();
          if (name.startsWith('on')) found.push(where + `${tag} ${name}=`);
          if (/^(javascript|vbscript|data):/.test(value)) {
            found.push(where + `${tag} ${name}=${value}`);
          }
        }
        if (tag === 'img') {
          const src = (el.getAttribute('src') || '').trim();
          const remote = /^([a-z]+:)?\\/\\//i.test(src) || /^data:/i.test(src);
          if (remote) found.push(where + 'img ' + src);
        }
      }
    }
  });
  return found;
}"""

#: (markdown outputs rendered, mjx-containers in the control cell)
PROGRESS = """() => {
  const cells = [...document.querySelectorAll('.jp-Notebook .jp-Cell')];
  return [document.querySelectorAll('.jp-OutputArea-output.jp-RenderedMarkdown').length,
          cells.length ? cells[0].querySelectorAll('mjx-container').length : 0];
}"""


def respond(received: Received) -> Reply:
    prompt = received.json["messages"][-1]["content"]
    text = CORPUS[int(prompt.strip().lstrip("#"))]
    return text_reply([text[i : i + 3] for i in range(0, len(text), 3)])


def build(srv: FaultServer) -> nbformat.NotebookNode:
    nb = notebook(
        "# control: outputs written by the test",
        "%load_ext nscale_jupyter",
        *(f"%%chat -m fake\n#{i}" for i in range(len(CORPUS))),
        *(PARTIALS % text for text in SAMPLE),
    )
    run_notebook(nb, {"NSCALE_BASE_URL": srv.base_url, "NSCALE_API_KEY": SENTINEL_KEY})
    assert errors(nb) == []
    nb.cells[0].outputs = [
        nbformat.v4.new_output("display_data", {"text/markdown": md, "text/plain": "control"})
        for md in CONTROLS
    ]
    return nb


def markdown_outputs(nb: nbformat.NotebookNode) -> int:
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    return sum("text/markdown" in o.get("data", {}) for o in outputs)


def check_frontend(page: Any, url: str, expected: int, name: str) -> None:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.route(lambda u: urlsplit(u).hostname != "127.0.0.1", lambda route: route.abort())
    page.goto(url)
    page.wait_for_function(f"() => ({PROGRESS})()[0] >= {expected}", timeout=600_000)
    page.wait_for_function(f"() => ({PROGRESS})()[1] >= 2", timeout=120_000)  # MathJax ran
    page.wait_for_load_state("networkidle")
    found = page.evaluate(SCAN)
    screenshot(page, f"markdown-{name}.png")
    control = [f for f in found if f.startswith("cell 0: ")]
    # The control cell trips the checks: outputs are trusted, math and images render.
    assert any("onclick" in f for f in control), control
    assert any("math typeset" in f for f in control), control
    assert any(f"img {CONTROL}" in f for f in control), control
    assert CONTROL in requests
    model = [f for f in found if not f.startswith("cell 0: ")]
    assert model == [], model[:50]
    assert [u for u in requests if LEAK in u] == []  # no corpus image was fetched
    # Text still reads right: `<b>` shows <b> in a code element.
    index = CORPUS.index("`<b>`") + 2
    codes = page.evaluate(
        "i => [...[...document.querySelectorAll('.jp-Notebook .jp-Cell')][i]"
        ".querySelectorAll('.jp-OutputArea-output code')].map(e => e.textContent)",
        index,
    )
    assert "<b>" in codes, codes
    assert SENTINEL_KEY not in page.content()


def test_hostile_markdown_is_inert_in_jupyterlab_and_notebook7(tmp_path: Path) -> None:
    require(Path(CHROMIUM).exists(), "chromium missing: bash scripts/install_browser.sh")
    with FaultServer() as srv:
        srv.respond = respond
        nb = build(srv)
        assert srv.wait_idle()
    expected = markdown_outputs(nb)
    assert expected >= len(CORPUS) + 10 * len(SAMPLE)
    data_dir = Path(tempfile.mkdtemp(prefix="nscale-data-", dir=tmp_path))
    NotebookNotary(data_dir=str(data_dir)).sign(nb)  # trusted by the server below
    nbformat.write(nb, tmp_path / "corpus.ipynb")
    env = {"JUPYTER_DATA_DIR": str(data_dir), "NSCALE_API_KEY": SENTINEL_KEY}
    with jupyter_lab(tmp_path, env) as lab:
        with browser_page() as page:
            check_frontend(page, lab.notebook_url("corpus.ipynb"), expected, "lab")
        with browser_page() as page:
            url = f"{lab.url}/notebooks/corpus.ipynb?token={lab.token}"
            check_frontend(page, url, expected, "notebook7")
