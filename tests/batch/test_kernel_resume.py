"""Interrupt a batch in a real kernel, restart the kernel, run it again: only the rest is sent."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.manager import start_new_kernel

from tests.e2e.kernel import SENTINEL_KEY
from tests.servers.fault_server import FaultServer, Received, Reply

from .helpers import completion, prompt_of

pytestmark = pytest.mark.kernel


def slow_echo(received: Received) -> Reply:
    reply = completion(f"<{prompt_of(received)}>")
    reply.delay = 0.15
    return reply


def run(client: Any, code: str) -> tuple[str, str, dict[str, Any]]:
    """(stdout, stderr, reply content) of one cell."""
    out: list[str] = []
    err: list[str] = []

    def hook(msg: dict[str, Any]) -> None:
        if msg["msg_type"] == "stream":
            (out if msg["content"]["name"] == "stdout" else err).append(msg["content"]["text"])

    reply = client.execute_interactive(code, timeout=60, output_hook=hook)
    return "".join(out), "".join(err), reply["content"]


def test_interrupt_keeps_rows_and_a_rerun_after_restart_sends_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "batch.jsonl"
    cell = (
        "import nscale_jupyter as nj\n"
        "items = [f'q{i}' for i in range(24)]\n"
        f"res = nj.batch(items, 'Q: {{item}}', concurrency=2, checkpoint={str(path)!r}, "
        "model='fake')"
    )
    report = (
        "print(len(res), sum(r.ok for r in res), res.interrupted, sum(r.resumed for r in res))"
    )
    with FaultServer() as srv:
        srv.respond = slow_echo  # type: ignore[assignment]
        env = {**os.environ, "NSCALE_BASE_URL": srv.base_url, "NSCALE_API_KEY": SENTINEL_KEY}
        manager, client = start_new_kernel(kernel_name="python3", env=env)
        try:
            run(client, "%load_ext nscale_jupyter")
            msg_id = client.execute(cell)
            deadline = time.monotonic() + 30
            while len([r for r in srv.requests if "chat" in r.path]) < 8:
                assert time.monotonic() < deadline, "the batch did not start"
                time.sleep(0.02)
            manager.interrupt_kernel()
            reply = client.get_shell_msg(timeout=20)
            assert reply["parent_header"]["msg_id"] == msg_id
            assert reply["content"]["status"] == "ok"  # no traceback: the finished rows kept
            out, _, _ = run(client, report)
            total, done, interrupted, resumed = out.split()
            assert (total, interrupted, resumed) == ("24", "True", "0")
            kept = len(path.read_text().splitlines())
            assert 4 <= int(done) == kept < 24

            manager.restart_kernel(now=True)
            client.wait_for_ready(timeout=60)
            sent = len([r for r in srv.requests if "chat" in r.path])
            run(client, "%load_ext nscale_jupyter")
            _, err, content = run(client, cell)
            assert content["status"] == "ok", err
            out, _, _ = run(client, report)
            assert out.split() == ["24", "24", "False", str(kept)]
            again = [prompt_of(r) for r in [r for r in srv.requests if "chat" in r.path][sent:]]
            done_before = {json.loads(line)["i"] for line in path.read_text().splitlines()[:kept]}
            assert sorted(again) == sorted(f"Q: q{i}" for i in range(24) if i not in done_before)
            answers, _, _ = run(client, "import json; print(json.dumps(res.answers))")
            assert json.loads(answers) == [f"<Q: q{i}>" for i in range(24)]  # order kept
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)
