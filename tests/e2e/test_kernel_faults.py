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

import nbformat
import pytest
from jupyter_client.manager import start_new_kernel

from tests.servers.fault_server import FaultServer, Reply, sse_events, text_reply
from tests.servers.faults import FAULTS, chunk

from .kernel import SENTINEL_KEY, notebook, run_notebook

pytestmark = pytest.mark.kernel


def outputs_text(cell: Any) -> tuple[str, str]:
    """(everything shown, stderr) of a cell."""
    shown = json.dumps(cell.outputs, ensure_ascii=False)
    stderr = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stderr")
    return shown, stderr


CAPTURE_LOGS = """\
import logging
records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append(self.format(record))
handler = Keep(logging.DEBUG)
handler.setFormatter(logging.Formatter("%(name)s %(message)s %(args)s"))
logging.getLogger().addHandler(handler)
logging.getLogger().setLevel(logging.DEBUG)
"""

# Every public object, the session's parts, errors with their tracebacks, and
# the log records, scanned in the kernel; only counts are printed.
SCAN_OBJECTS = """\
import os, traceback, nscale_jupyter as nj
from nscale_jupyter._api import default_session
key = os.environ["NSCALE_API_KEY"]
s = default_session()
objects = [getattr(nj, name) for name in nj.__all__]
objects += [s, s._client, s.settings, s.thread(), *s.thread().messages, _]
client = nj.Client(key, base_url=s.base_url)
objects += [client, client._async, client._async._http.auth]
texts = [repr(o) for o in objects] + [str(vars(s)), str(s.settings.trait_values())]
errors = 0
for prompt in ("401", "drop"):
    try:
        nj.chat(prompt, model="fake")
    except nj.NscaleError as exc:
        errors += 1
        texts += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
client.close()
texts += records
print("scanned", len(texts), "errors", errors, "records", len(records), "leaks",
      sum(key in t for t in texts))
"""


def test_each_fault_in_a_real_kernel() -> None:
    with FaultServer() as srv:
        cells = ["%load_ext nscale_jupyter", CAPTURE_LOGS]
        fault_cells: dict[str, int] = {}
        expected_history: list[list[Any]] = []
        for name, fault in FAULTS.items():
            srv.enqueue(*fault.replies)
            if fault.timeout is not None:
                cells.append(f"%config ChatSettings.timeout = {fault.timeout}")
            fault_cells[name] = len(cells)
            cells.append(f"%%chat -m fake\n{name}")
            if fault.timeout is not None:
                cells.append("%config ChatSettings.timeout = 600.0")
            if fault.recorded is not None:
                expected_history += [
                    ["user", name, False],
                    ["assistant", fault.recorded, fault.cut_off],
                ]
        srv.enqueue(text_reply(["all", " good"]))
        cells.append("%%chat -m fake\nstill working?")
        expected_history += [["user", "still working?", False], ["assistant", "all good", False]]
        cells.append(
            "import json\nfrom nscale_jupyter._api import default_session as s\n"
            "print(json.dumps([(m.role, m.text, m.truncated) for m in s().thread().messages]))"
        )
        srv.enqueue(
            Reply(status=401, body=b'{"error": {"message": "bad key"}}'),
            Reply(events=sse_events([chunk("Half")]), drop_after=1),
        )
        cells += ["%chat settings", "%chat history", SCAN_OBJECTS]
        nb = notebook(*cells)
        run_notebook(
            nb,
            {"NSCALE_BASE_URL": srv.base_url, "NSCALE_API_KEY": SENTINEL_KEY},
            store_widget_state=True,
        )
        # The key shows nowhere: outputs, the saved file, logs, reprs, errors, tracebacks.
        assert SENTINEL_KEY not in nbformat.writes(nb)
        assert "key: set" in json.dumps(nb.cells[-3].outputs)  # %chat settings ran
        assert "still working?" in json.dumps(nb.cells[-2].outputs)  # %chat history ran
        scan = nb.cells[-1].outputs[0]["text"].split()
        assert scan[0] == "scanned" and int(scan[1]) > 100 and int(scan[3]) >= 2, scan
        assert int(scan[5]) > 20, scan  # log records, httpx's among them
        assert scan[6:] == ["leaks", "0"], scan
        nb.cells = nb.cells[:-3]  # the rest is checked against the fault table below
        for name, fault in FAULTS.items():
            cell = nb.cells[fault_cells[name]]
            shown, stderr = outputs_text(cell)
            assert all(o["output_type"] != "error" for o in cell.outputs), (name, shown)
            assert "Traceback" not in shown and SENTINEL_KEY not in shown, name
            for text in fault.shown:
                assert text in shown, (name, text, shown)
            for text in fault.transient:  # a retry that worked leaves no notice behind
                assert text not in shown, (name, text, shown)
            if fault.message is not None:
                assert fault.message in stderr, (name, stderr)
            markup = json.dumps(
                [
                    o.get("data", {}).get(k, "")
                    for o in cell.outputs
                    for k in ("text/markdown", "text/html")
                ]
            )
            assert "<script" not in markup and "<img" not in markup, name
        assert "all good" in outputs_text(nb.cells[-2])[0]
        assert srv.requests[-1].headers["authorization"] == f"Bearer {SENTINEL_KEY}"
        # Failed requests added nothing; cut-off replies are recorded as cut off.
        assert json.loads(nb.cells[-1].outputs[0]["text"]) == expected_history
        assert srv.replies == []  # each fault retried exactly as often as the table says
        assert srv.wait_idle()


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
            assert srv.wait_idle() and srv.hung_up == 1  # the server saw the connection close
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
