"""``%%chat --over VAR --no-wait`` in a real kernel: the cell ends, the batch goes on.

Every row waits at the server until a later cell opens the gate, so what the
cells see does not depend on timing: the batch is still running when the next
cell runs. The bar's updates after its cell ended carry that cell's message
id, which is how a frontend (JupyterLab, Notebook 7) routes them to its output.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from jupyter_client.manager import start_new_kernel

from tests.e2e.kernel import SENTINEL_KEY
from tests.servers.fault_server import FaultServer

from .helpers import Gated

pytestmark = pytest.mark.kernel

CELL = "%%chat --over items --no-wait --out job --concurrency 2 -m fake\nQ: {item}"


def test_a_batch_left_running_frees_the_notebook() -> None:
    with FaultServer() as srv:
        srv.respond = Gated()  # type: ignore[assignment]
        env = {**os.environ, "NSCALE_BASE_URL": srv.base_url, "NSCALE_API_KEY": SENTINEL_KEY}
        manager, client = start_new_kernel(kernel_name="python3", env=env)
        seen: list[dict[str, Any]] = []

        def run(code: str) -> str:
            """Run a cell; keep every IOPub message, whichever cell it belongs to."""
            msg_id = client.execute(code)
            out: list[str] = []
            while True:
                msg = client.get_iopub_msg(timeout=60)
                seen.append(msg)
                mine = msg["parent_header"].get("msg_id") == msg_id
                if mine and msg["msg_type"] == "stream":
                    out.append(msg["content"]["text"])
                if mine and msg["content"].get("execution_state") == "idle":
                    break
            reply = client.get_shell_msg(timeout=60)
            assert reply["content"]["status"] == "ok", reply["content"]
            return "".join(out)

        try:
            run("%load_ext nscale_jupyter\nitems = [f'q{i}' for i in range(6)]")
            run(CELL)
            batch_cell = seen[-1]["parent_header"]["msg_id"]  # its status: idle
            # The cell has ended; every row still waits at the gate.
            assert run("print(type(_).__name__, job.done(), job.progress.done)").split() == [
                "BatchRun", "False", "0",
            ]  # fmt: skip
            run(f"import urllib.request; urllib.request.urlopen({srv.base_url + '/open'!r})")
            answers = run("res = job.result(timeout=60)\nprint(res.answers)")
            assert answers.strip() == str([f"<Q: q{i}>" for i in range(6)])
            late: list[dict[str, Any]] = []
            while True:  # what the kernel sent after the cells that asked for it
                try:
                    late.append(client.get_iopub_msg(timeout=1))
                except Exception:
                    break
        finally:
            manager.shutdown_kernel(now=True)
    updates = [m for m in seen + late if m["msg_type"] == "update_display_data"]
    assert updates, "the bar's last line was never drawn"
    final = updates[-1]
    assert final["parent_header"]["msg_id"] == batch_cell  # routed to the batch's own cell
    assert final["content"]["data"]["text/plain"].startswith("batch: 6/6 done")
    assert srv.max_concurrent <= 2
