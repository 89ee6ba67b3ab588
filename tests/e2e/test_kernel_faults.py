"""Faults seen from a notebook: a loopback fault server drives %%chat in a real kernel.

For each fault the cell ends with one clear message (no traceback from the
library), what had arrived stays on screen marked, the history stays
consistent, and the next %%chat works. Interrupting the kernel mid-stream
keeps the partial reply and leaves no connection or task behind.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest
from jupyter_client.manager import start_new_kernel

from tests.servers.fault_server import FaultServer, Reply, sse_events, text_reply

from .kernel import SENTINEL_KEY, notebook, run_notebook

pytestmark = pytest.mark.kernel


def chunk(content: str | None = None, finish: str | None = None) -> dict[str, Any]:
    delta = {"content": content} if content is not None else {}
    return {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "fake",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


HELLO = [chunk("Hel"), chunk("lo "), chunk("wörld 😀"), chunk("", "stop")]
FAULTS: dict[str, Reply] = {
    "drop": Reply(events=sse_events([chunk("Half a "), chunk("story")]), drop_after=1),
    "429": Reply(
        status=429, body=b'{"error": {"message": "slow down"}}', headers={"retry-after": "0.2"}
    ),
    "500": Reply(status=500, body=b'{"error": {"message": "engine exploded", "code": 500}}'),
    "503": Reply(status=503, body=b"<html><title>503 Service Unavailable</title></html>"),
    "malformed": Reply(events=[*sse_events([chunk("Before ")], done=False), b"data: {oops\n\n"]),
    "in_stream_error": Reply(
        events=[
            *sse_events([chunk("Partial ")], done=False),
            b'data: {"error": {"message": "boom", "code": 500}}\n\n',
            b"data: [DONE]\n\n",
        ]
    ),
    "keepalive_crlf": Reply(
        events=[b": ping\r\n\r\n", *[e.replace(b"\n", b"\r\n") for e in sse_events(HELLO)]]
    ),
    "multibyte_split": Reply(
        events=[b"".join(sse_events(HELLO))[:i] for i in (1,)] + [b"".join(sse_events(HELLO))[1:]]
    ),
    "no_done": Reply(events=sse_events(HELLO, done=False)),
    "trickle": Reply(events=sse_events(HELLO), interval=0.05),
    "hostile": Reply(
        events=sse_events(
            [chunk('<img src=x onerror="alert(1)"><script>x()</script>'), chunk("", "stop")]
        )
    ),
}


def outputs_text(cell: Any) -> tuple[str, str]:
    """(everything shown, stderr) of a cell."""
    shown = json.dumps(cell.outputs, ensure_ascii=False)
    stderr = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stderr")
    return shown, stderr


def test_each_fault_in_a_real_kernel() -> None:
    with FaultServer() as srv:
        cells = ["%load_ext nscale_jupyter"]
        for name, reply in FAULTS.items():
            srv.enqueue(reply)
            if name == "429":
                srv.enqueue(text_reply(["recovered"]))
            if name == "503":  # a gateway status: retried twice, then reported
                srv.enqueue(reply, reply)
            cells.append(f"%%chat -m fake\n{name}")
        srv.enqueue(text_reply(["all", " good"]))
        cells.append("%%chat -m fake\nstill working?")
        cells.append(
            "from nscale_jupyter._api import default_session as s\n"
            "print([(m.role, m.text, m.truncated) for m in s().thread().messages])"
        )
        nb = notebook(*cells)
        run_notebook(nb, {"NSCALE_BASE_URL": srv.base_url, "NSCALE_API_KEY": SENTINEL_KEY})
        by_name = dict(zip(FAULTS, nb.cells[1:], strict=False))
        for name, cell in by_name.items():
            shown, _ = outputs_text(cell)
            assert all(o["output_type"] != "error" for o in cell.outputs), (name, shown)
            assert "Traceback" not in shown, name
            assert SENTINEL_KEY not in shown, name
        assert "Half a" in outputs_text(by_name["drop"])[0]
        assert "cut off" in outputs_text(by_name["drop"])[0]
        assert "connection broke" in outputs_text(by_name["drop"])[1]
        assert "retrying in 0.2 s (1/2): 429 slow down" in outputs_text(by_name["429"])[0]
        assert "recovered" in outputs_text(by_name["429"])[0]
        assert "500" in outputs_text(by_name["500"])[1]
        assert "503 Service Unavailable" in outputs_text(by_name["503"])[1]
        assert "malformed" in outputs_text(by_name["malformed"])[1]
        assert "Before" in outputs_text(by_name["malformed"])[0]
        assert "boom" in outputs_text(by_name["in_stream_error"])[1]
        for name in ("keepalive_crlf", "multibyte_split", "trickle"):
            assert "Hello wörld 😀" in outputs_text(by_name[name])[0], name
        assert "cut off" in outputs_text(by_name["no_done"])[0]
        hostile = outputs_text(by_name["hostile"])[0]
        assert "&lt;img" in hostile and "&lt;script>" in hostile
        assert "all good" in outputs_text(nb.cells[-2])[0]
        history = nb.cells[-1].outputs[0]["text"]
        # Failed requests added nothing; cut-off replies are recorded as cut off.
        assert "('assistant', 'Half a ', True)" in history
        assert "('user', '500', 'False')" not in history and "'500'" not in history
        assert "('assistant', 'all good', False)" in history
        retried = [r for r in srv.requests if r.path.endswith("/chat/completions")]
        assert len(retried) == len(FAULTS) + 1 + 1 + 2  # + 429's retry + the last cell + 503's 2


def test_interrupt_mid_stream_ends_the_cell_and_keeps_the_partial() -> None:
    with FaultServer() as srv:
        srv.enqueue(Reply(events=sse_events([chunk("Once "), chunk("upon")] * 3), stall_after=2))
        manager, client = start_new_kernel(
            kernel_name="python3",
            env={**os.environ, "NSCALE_BASE_URL": srv.base_url, "NSCALE_API_KEY": SENTINEL_KEY},
        )
        try:
            client.execute_interactive("%load_ext nscale_jupyter", timeout=30)
            msg_id = client.execute("%%chat -m fake\ntell me a story")
            seen_text = False
            deadline = time.monotonic() + 30
            while not seen_text and time.monotonic() < deadline:
                msg = client.get_iopub_msg(timeout=10)
                seen_text = "Once upon" in json.dumps(msg["content"].get("data", {}))
            assert seen_text
            interrupted = time.monotonic()
            manager.interrupt_kernel()
            reply = client.get_shell_msg(timeout=10)
            took = time.monotonic() - interrupted
            assert reply["parent_header"]["msg_id"] == msg_id
            assert reply["content"]["status"] == "ok"  # no traceback: partial kept instead
            print(f"cell ended {took * 1000:.0f} ms after the interrupt")
            check = (
                "import asyncio\nfrom nscale_jupyter._api import default_session as s\n"
                "m = s().thread().messages[-1]\n"
                "tasks = [t for t in asyncio.all_tasks(s().loop.loop) if not t.done()]\n"
                "print(m.text, m.truncated, len(tasks))"
            )
            out: list[str] = []
            client.execute_interactive(
                check,
                timeout=30,
                output_hook=lambda m: (
                    out.append(m["content"].get("text", "")) if m["msg_type"] == "stream" else None
                ),
            )
            truncated, pending = "".join(out).split()[-2:]
            assert truncated == "True" and "Once" in "".join(out)
            assert pending == "0"  # no stream task left on the session loop
            srv.enqueue(text_reply(["next", " works"]))
            out.clear()
            client.execute_interactive(
                "%%chat -m fake\nagain",
                timeout=30,
                output_hook=lambda m: out.append(json.dumps(m["content"])),
            )
            assert "next works" in "".join(out)
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)
