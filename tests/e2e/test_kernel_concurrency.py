"""Concurrency in a real kernel, against the loopback FaultServer.

- Several ``%%chat`` cells sent at once while the live panel streams its own
  reply: every output lands in its own cell (checked per parent message and
  per display id), the panel shows only its reply, nothing deadlocks.
- ``%chat compare`` of 8 values: the server counts the requests in flight,
  and the bound given by ``--concurrency`` is reached and never passed.
"""

from __future__ import annotations

import html
import json
import os
import threading
from typing import Any

import pytest
from jupyter_client.manager import start_new_kernel

from tests.servers.fault_server import FaultServer, Received, Reply, text_reply

from .kernel import LIVE_PANEL, SENTINEL_KEY, errors, notebook, run_notebook

pytestmark = pytest.mark.kernel

CELLS = 6


def echo(received: Received) -> Reply:
    """``[prompt]`` then a few slow pieces, so replies overlap other work."""
    prompt = received.json["messages"][-1]["content"]
    return text_reply([f"[{prompt}]", *[f" {i}" for i in range(8)]], interval=0.04)


def test_quick_cells_and_the_live_panel_keep_their_own_outputs() -> None:
    with FaultServer() as srv:
        srv.respond = echo
        manager, client = start_new_kernel(
            kernel_name="python3",
            env={**os.environ, "NSCALE_BASE_URL": srv.base_url, "NSCALE_API_KEY": SENTINEL_KEY},
        )
        try:
            client.execute_interactive("%load_ext nscale_jupyter", timeout=60)
            client.execute_interactive(LIVE_PANEL, timeout=60)  # a live run in 300 ms
            # Six cells at once: the kernel queues them; the panel's live run
            # streams on the kernel loop between and around them.
            ids = {client.execute(f"%%chat -m fake\nq{i}"): i for i in range(CELLS)}
            replies: dict[str, dict[str, Any]] = {}
            seen: dict[str, list[dict[str, Any]]] = {m: [] for m in ids}
            while len(replies) < CELLS:
                reply = client.get_shell_msg(timeout=60)
                replies[reply["parent_header"]["msg_id"]] = reply
            idle = 0
            while idle < CELLS:  # drain iopub up to each cell's idle status
                msg = client.get_iopub_msg(timeout=30)
                parent = msg["parent_header"].get("msg_id")
                if parent in seen:
                    seen[parent].append(msg)
                    if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                        idle += 1
            assert all(r["content"]["status"] == "ok" for r in replies.values())
            owner: dict[str, str] = {}  # display id -> the cell that made it
            for msg_id, msgs in seen.items():
                for msg in msgs:
                    display_id = msg["content"].get("transient", {}).get("display_id")
                    if msg["msg_type"] == "display_data" and display_id:
                        owner[display_id] = msg_id
            for msg_id, i in ids.items():
                shown = json.dumps([m["content"] for m in seen[msg_id]])
                assert f"[q{i}] 0 1 2 3 4 5 6 7" in shown, (i, shown)
                others = [j for j in range(CELLS) if j != i and f"[q{j}]" in shown]
                assert others == [] and "panel question" not in shown
                assert "Traceback" not in shown and SENTINEL_KEY not in shown
                for msg in seen[msg_id]:
                    if msg["msg_type"] == "update_display_data":
                        assert owner[msg["content"]["transient"]["display_id"]] == msg_id
            out: list[str] = []
            client.execute_interactive(
                "await p.task\nprint(p.runs, p.reply_markup)",
                timeout=60,
                output_hook=lambda m: (
                    out.append(m["content"].get("text", "")) if m["msg_type"] == "stream" else None
                ),
            )
            panel = html.unescape("".join(out))  # the reply's Markdown writes "[" as "&#91;"
            assert panel.startswith("1 ")  # one live run: the debounce merged the changes
            assert "[panel question] 0 1 2 3 4 5 6 7" in panel
            assert not any(f"[q{i}]" in panel for i in range(CELLS))
            prompts = [r.json["messages"][-1]["content"] for r in srv.requests if r.json]
            assert sorted(prompts) == sorted([f"q{i}" for i in range(CELLS)] + ["panel question"])
            # The panel's request went out while the queued cells were still running.
            assert prompts.index("panel question") < prompts.index(f"q{CELLS - 1}"), prompts
            assert srv.wait_idle()
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)


def test_compare_of_eight_values_respects_the_bound_at_the_server() -> None:
    peaks: dict[str, int] = {}
    lock = threading.Lock()

    def respond(received: Received) -> Reply:
        body = received.json
        field = "top_p" if "top_p" in body else "temperature"
        value = body.get(field)
        with lock:  # the request in flight, counted as it arrives (peaks happen on arrivals)
            peaks[field] = max(peaks.get(field, 0), srv.in_flight + 1)
        return text_reply([f"{field}={value}", " done"], interval=0.15)

    with FaultServer() as srv:
        srv.enqueue(text_reply(["first"]))
        srv.respond = respond
        temps = [round(0.1 * i, 1) for i in range(8)]
        top_ps = [round(0.1 * i, 1) for i in range(1, 9)]
        nb = notebook(
            "%load_ext nscale_jupyter",
            "%%chat -m fake\nhello",
            f"%chat compare temperature={','.join(map(str, temps))} --concurrency 3",
            "print([(c.value, c.result.text) for c in _])",
            f"%chat compare top_p={','.join(map(str, top_ps))} --concurrency 8",
            "print([(c.value, c.result.text) for c in _])",
        )
        run_notebook(nb, {"NSCALE_BASE_URL": srv.base_url, "NSCALE_API_KEY": SENTINEL_KEY})
        assert errors(nb) == []
        assert peaks == {"temperature": 3, "top_p": 8}
        first = nb.cells[3].outputs[0]["text"]
        assert first.strip() == str([(t, f"temperature={t} done") for t in temps])
        second = nb.cells[5].outputs[0]["text"]
        assert second.strip() == str([(p, f"top_p={p} done") for p in top_ps])
        shown = json.dumps(nb.cells[2].outputs)
        for t in temps:  # each value's reply sits in its own column, in order
            assert f"temperature={t} done" in shown
        positions = [shown.index(f"temperature={t} done") for t in temps]
        assert positions == sorted(positions)
        assert srv.wait_idle()
