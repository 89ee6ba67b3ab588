"""Untrusted model output in a real kernel: every HTML view escapes it.

The FaultServer answers with hostile text, reasoning, tool names, tool
arguments, logprob tokens and alternatives; a registered tool returns hostile
text too. The Markdown reply, the reasoning fold, the tool cards, the
heatmap, the compare view and the panel (its saved widget state) are parsed
as HTML: no ``script`` or ``img`` element and no ``on*`` attribute got through.
"""

from __future__ import annotations

import json
from typing import Any

import nbformat
import pytest

from tests.core import streams
from tests.html import tags
from tests.servers.fault_server import FaultServer, Received, Reply, sse_events

from .kernel import LIVE_PANEL, SENTINEL_KEY, errors, notebook, run_notebook

pytestmark = pytest.mark.kernel

IMG = '<img src=x onerror="alert(1)">'
SCRIPT = "<script>alert(2)</script>"
HOSTILE = f"{IMG} and {SCRIPT} & <b onclick=alert(3)>bold</b>"


def chunk(delta: dict[str, Any], finish: str | None = None, **fields: Any) -> dict[str, Any]:
    return streams.chunk(streams.choice(finish_reason=finish, **fields, **delta), model="fake")


def token(text: str) -> dict[str, Any]:
    raw = list(text.encode())
    alt = {"token": IMG, "logprob": -3.0, "bytes": list(IMG.encode())}
    return {
        "token": text,
        "logprob": -0.5,
        "bytes": raw,
        "top_logprobs": [{"token": text, "logprob": -0.5, "bytes": raw}, alt],
    }


def respond(received: Received) -> Reply:
    messages = received.json["messages"]
    last = messages[-1]
    prompt = last.get("content") or ""
    if last["role"] == "tool":  # the tool's (hostile) result came back: answer in text
        return Reply(events=sse_events([chunk({"content": HOSTILE}), chunk({}, "stop")]))
    if prompt == "tools":
        calls = [
            {
                "index": i,
                "id": f"call_{i}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps({"text": HOSTILE})},
            }
            for i, name in enumerate(["shout", SCRIPT])
        ]
        return Reply(events=sse_events([chunk({"tool_calls": calls}), chunk({}, "tool_calls")]))
    if prompt == "logprobs":
        pieces = [SCRIPT, " ", IMG]
        events = [chunk({"content": p}, logprobs={"content": [token(p)]}) for p in pieces]
        return Reply(events=sse_events([*events, chunk({}, "stop")]))
    return Reply(
        events=sse_events(
            [
                chunk({"reasoning_content": HOSTILE}),
                chunk({"content": HOSTILE}),
                chunk({}, "stop"),
            ]
        )
    )


def markup_of(outputs: list[Any]) -> list[str]:
    return [
        o.get("data", {}).get(kind, "")
        for o in outputs
        for kind in ("text/html", "text/markdown")
        if o.get("data", {}).get(kind)
    ]


def widget_html(state: dict[str, Any]) -> list[str]:
    """The markup of every HTML widget and Output widget in saved widget state."""
    models = state.get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    found = []
    for m in models.values():
        if m.get("model_name") in ("HTMLModel", "HTMLMathModel"):
            found.append(m["state"].get("value", ""))
        if m.get("model_name") == "OutputModel":
            for out in m["state"].get("outputs", []):
                data = out.get("data", {})
                found += [data.get("text/html", ""), data.get("text/markdown", "")]
    return found


def assert_inert(markup: str, where: str) -> None:
    found = tags(markup)
    assert not {"script", "img"} & set(found.tags), (where, found.tags, markup[:500])
    assert not [a for a in found.attrs if a.startswith("on")], (where, found.attrs)


def test_hostile_output_is_inert_in_every_view() -> None:
    with FaultServer() as srv:
        srv.respond = respond
        nb = notebook(
            "%load_ext nscale_jupyter",
            "import nscale_jupyter\n"
            "@nscale_jupyter.tool\n"
            "def shout(text: str) -> str:\n"
            '    """Say it louder."""\n'
            "    return text.upper() + ' <script>alert(4)</script>'",
            "%%chat -m fake\nmarkdown",
            "%%chat -m fake --tools shout\ntools",
            "%%chat -m fake --logprobs --top-logprobs 2\nlogprobs",
            "%%chat -m fake\ncompare me",
            "%chat compare temperature=0,1",
            LIVE_PANEL,
            "import asyncio\n"
            "await asyncio.sleep(1)  # the debounce, then the live run\n"
            "await p.task\n"
            "print(p.runs)\n"
            "print(p.reply_markup)",
        )
        run_notebook(
            nb,
            {"NSCALE_BASE_URL": srv.base_url, "NSCALE_API_KEY": SENTINEL_KEY},
            store_widget_state=True,
        )
        assert errors(nb) == []
        views = {
            "markdown and reasoning": nb.cells[2],
            "tool cards": nb.cells[3],
            "heatmap": nb.cells[4],
            "compare": nb.cells[6],
        }
        for where, cell in views.items():
            markup = markup_of(cell.outputs)
            assert markup, where
            for m in markup:
                assert_inert(m, where)
        shown = json.dumps([c.outputs for c in views.values()])
        assert "&lt;script" in shown and "&lt;img" in shown  # shown as text, not dropped
        assert "nscale-toolcard" in shown and "ALERT(3)" in shown and "alert(4)" in shown
        runs, reply = nb.cells[-1].outputs[0]["text"].split("\n", 1)
        assert runs == "1"  # the panel's live run ended
        assert "&lt;script" in reply and "&lt;img" in reply  # its reply arrived, as text
        assert_inert(reply, "panel reply")
        panel = widget_html(nb.metadata["widgets"])
        assert panel  # the saved widget state holds the panel's HTML views
        for h in panel:
            assert_inert(h, "panel")
        assert SENTINEL_KEY not in nbformat.writes(nb)
