"""The .html export opened in headless Chromium: hostile model text shows, and nothing acts.

A real turn against a loopback server whose reply is hostile
(tests/servers/conversation.py), plus the hostile corpus as replies, tool
calls, tool results and reasoning, exported with ``export_thread``. Opened
from a file: no script element or handler, no dialog, the title unchanged, no
request but the page itself, and the hostile text reads as text. A control
page (the same reply written unescaped) shows the checks see what they look for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nscale_jupyter import Message, ToolCall, chat
from nscale_jupyter._export import export_thread
from nscale_jupyter._session import Session
from tests.conftest import require
from tests.markdown_corpus import CORPUS
from tests.servers import conversation
from tests.servers.fault_server import FaultServer

from .browser import CHROMIUM, browser_page, screenshot

pytestmark = pytest.mark.browser

KEY = "sk-SENTINEL-export-browser-77a2"

#: What could act on the page, and the page's own state.
SCAN = """() => {
  const found = [];
  for (const el of document.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    if (['script', 'iframe', 'object', 'embed', 'form', 'svg', 'math', 'base', 'link',
         'frame', 'template', 'input', 'button'].includes(tag)) found.push('<' + tag + '>');
    for (const attr of el.attributes) {
      const value = attr.value.replace(/[\\u0000-\\u0020]+/g, '').toLowerCase();
      if (attr.name.startsWith('on')) found.push(tag + ' ' + attr.name);
      if (/^(javascript|vbscript):/.test(value)) found.push(tag + ' ' + attr.name + '=' + value);
    }
    if (tag === 'img' && !/^data:image\\/(png|jpeg|gif|webp);/.test(el.getAttribute('src')))
      found.push('img ' + el.getAttribute('src'));
  }
  return {found, title: document.title, text: document.body.innerText};
}"""


def open_page(path: Path) -> tuple[dict[str, Any], list[str], list[str]]:
    requests: list[str] = []
    dialogs: list[str] = []
    with browser_page() as page:
        page.on("request", lambda request: requests.append(request.url))

        def dismiss(dialog: Any) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", dismiss)
        page.goto(path.as_uri())
        page.wait_for_load_state("load")  # after every image loaded or failed (onerror ran)
        state = page.evaluate(SCAN)
        screenshot(page, f"export-{path.stem}.png")
    return state, requests, dialogs


def hostile_thread(srv: FaultServer) -> Session:
    session = Session(api_key=KEY)
    session.settings.base_url = srv.base_url
    chat("hostile", thread="h", session=session)
    thread = session.thread("h")
    for i, text in enumerate(CORPUS):
        call = ToolCall(f"c{i}", "lookup", text)
        thread.record(
            [Message.user(text), Message.assistant(text, [call]), Message.tool(f"c{i}", text)]
        )
    return session


def test_hostile_html_export_is_inert_in_chromium(tmp_path: Path) -> None:
    require(Path(CHROMIUM).exists(), "chromium missing: bash scripts/install_browser.sh")
    with FaultServer() as srv:
        srv.respond = conversation.respond
        session = hostile_thread(srv)
        assert srv.wait_idle()
    path = export_thread(tmp_path / "hostile.html", "h", session=session)

    control = tmp_path / "control.html"
    control.write_text(f"<!DOCTYPE html><title>h</title><body>{conversation.HOSTILE}</body>")
    state, requests, dialogs = open_page(control)
    assert state["title"] == "pwned" and any("script" in f for f in state["found"])
    assert any("leak-0451" in url for url in requests)  # the checks see what they look for

    state, requests, dialogs = open_page(path)
    assert state["found"] == [] and dialogs == []
    assert state["title"] == "thread h"
    assert requests == [path.as_uri()]  # nothing fetched: no image, no style, no script
    assert "<script>document.title='pwned'</script>" in state["text"]  # shown, as text
    assert KEY not in path.read_text()
