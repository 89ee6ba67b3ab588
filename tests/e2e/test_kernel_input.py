"""What users type, in a real kernel: where the kernel itself decides what happens.

- nbclient (like nbconvert and papermill) cannot answer ``getpass``: no key is
  one line saying how to set it, not ``StdinNotImplementedError``;
- ipykernel reads a line ending in ``?`` as a help request before any magic
  runs: ``%chat How are you?`` must still reach the model;
- a kernel interrupt while a tool runs ends the cell in one line, the card
  marked interrupted, the thread still valid.
"""

from __future__ import annotations

import json
import os
import time

import pytest
from jupyter_client.manager import start_new_kernel

from tests.core.streams import choice, chunk, role
from tests.servers.fault_server import FaultServer, Reply, sse_events, text_reply

from .kernel import SENTINEL_KEY, errors, notebook, run_notebook, texts

pytestmark = pytest.mark.kernel


def test_no_key_and_questions_in_a_kernel() -> None:
    with FaultServer() as srv:
        srv.respond = lambda received: text_reply(
            [f"<{received.json['messages'][-1]['content']}>"]
        )
        nb = notebook(
            "%load_ext nscale_jupyter",
            "%%chat\nhi",  # nscale's URL, no key, and nbclient cannot ask for one
            f"%config ChatSettings.base_url = {srv.base_url!r}",
            "%chat -m fake How are you?",
            "%chat -m fake what's the weather like",
            "%chat -m fake help me write a poem",
        )
        run_notebook(nb, {"NSCALE_API_KEY": "", "NSCALE_BASE_URL": ""})
        assert errors(nb) == []  # IPython shows a UsageError as one line on stderr
        (line,) = [o["text"] for o in nb.cells[1].outputs if o.get("name") == "stderr"]
        assert line.startswith("UsageError: no API key, and this front end cannot ask")
        assert line.count("\n") == 1 and "StdinNotImplemented" not in texts(nb.cells[1])
        for cell, prompt in zip(
            nb.cells[3:],
            ["How are you?", "what's the weather like", "help me write a poem"],
            strict=True,
        ):
            assert f"<{prompt}>" in texts(cell), texts(cell)
        sent = [r.json["messages"][-1]["content"] for r in srv.requests if r.json]
        assert sent == ["How are you?", "what's the weather like", "help me write a poem"]


def test_interrupt_while_a_tool_runs_in_a_kernel() -> None:
    head = {"id": "c1", "type": "function", "index": 0,
            "function": {"name": "slow", "arguments": '{"city": "Oslo"}'}}  # fmt: skip
    with FaultServer() as srv:
        srv.enqueue(Reply(events=sse_events(
            [chunk(role()), chunk(choice(tool_calls=[head], finish_reason="tool_calls"))]
        )))  # fmt: skip
        manager, client = start_new_kernel(
            kernel_name="python3",
            env={**os.environ, "NSCALE_BASE_URL": srv.base_url, "NSCALE_API_KEY": SENTINEL_KEY},
        )
        try:
            client.execute_interactive(
                "%load_ext nscale_jupyter\nimport time\n"
                "def slow(city: str) -> str:\n"
                '    """Slow lookup."""\n'
                "    print('tool started', flush=True)\n"
                "    time.sleep(20)\n"
                "    return city",
                timeout=30,
            )
            msg_id = client.execute("%%chat -m fake --tools slow\nlook it up")
            outputs: list[str] = []
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and "tool started" not in "".join(outputs):
                msg = client.get_iopub_msg(timeout=10)
                outputs.append(json.dumps(msg["content"]))
            interrupted = time.monotonic()
            manager.interrupt_kernel()
            reply = client.get_shell_msg(timeout=10)
            took = time.monotonic() - interrupted
            assert reply["parent_header"]["msg_id"] == msg_id
            assert reply["content"]["status"] == "ok"  # one line, no traceback
            print(f"cell ended {took * 1000:.0f} ms after the interrupt (during a tool)")
            while True:  # the rest of the cell's messages
                msg = client.get_iopub_msg(timeout=10)
                outputs.append(json.dumps(msg["content"]))
                if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    break
            shown = "".join(outputs)
            assert "[interrupted]" in shown and "nscale: interrupted" in shown
            assert "Traceback" not in shown
            srv.enqueue(text_reply(["next"]))
            out: list[str] = []
            client.execute_interactive(
                "%%chat -m fake\nagain\n", timeout=30,
                output_hook=lambda m: out.append(json.dumps(m["content"])),
            )  # fmt: skip
            assert "next" in "".join(out)
            roles = [m["role"] for m in srv.requests[-1].json["messages"]]
            assert roles == ["user", "assistant", "tool", "user"]  # the call was closed
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)
