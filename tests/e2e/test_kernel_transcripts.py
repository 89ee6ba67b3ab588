"""Transcripts in a real kernel (nbclient): export a thread as a notebook, and run that notebook.

A kernel chats with a loopback server (tests/servers/conversation.py), logs
each turn (``%config ChatSettings.log_path``) and exports the thread as .ipynb
and .json. The exported notebook, executed in a fresh kernel, asks the same
prompts again and gets the same replies; no file holds the key.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from tests.servers import conversation
from tests.servers.conversation import PNG
from tests.servers.fault_server import FaultServer

from .kernel import SENTINEL_KEY, errors, notebook, run_notebook, texts

pytestmark = pytest.mark.kernel


def markdown_of(cell: nbformat.NotebookNode) -> list[str]:
    return [
        o["data"]["text/markdown"] for o in cell.outputs if "text/markdown" in o.get("data", {})
    ]


def test_an_exported_notebook_runs_again_in_a_fresh_kernel(tmp_path: Path) -> None:
    log = tmp_path / "class.jsonl"
    with FaultServer() as srv:
        srv.respond = conversation.respond
        env = {"NSCALE_BASE_URL": srv.base_url, "NSCALE_API_KEY": SENTINEL_KEY}
        nb = notebook(
            "%load_ext nscale_jupyter",
            f"%config ChatSettings.log_path = {str(log)!r}",
            '%chat system "Be brief."',
            "%%chat\nhello {{braces}}",
            "%%chat\nhostile",
            f"import base64; dot = base64.b64decode({PNG.partition(',')[2]!r})",
            "%%chat --image dot\nWhat is this?",
            f"%chat export {tmp_path}/lesson.ipynb",
            f"%chat export {tmp_path}/lesson.json",
        )
        run_notebook(nb, env)
        assert errors(nb) == []
        assert "written to" in texts(nb.cells[7])
        exported = nbformat.read(tmp_path / "lesson.ipynb", as_version=4)
        nbformat.validate(exported)
        replies = [md for c in exported.cells if c.cell_type == "code" for md in markdown_of(c)]
        assert len(replies) == 3 and "Echo: hello {braces}" in replies[0]

        run_notebook(exported, env)
        assert errors(exported) == []
        again = [md for c in exported.cells if c.cell_type == "code" for md in markdown_of(c)]
        assert len(again) == 3
        # Answered anew (the live footer), the prompt sent as it was (braces kept).
        assert "tok/s" in again[0] and "tok/s" not in replies[0]
        assert "Echo: hello {braces}" in again[0]
        assert srv.wait_idle()
    sent = [r.json["messages"] for r in srv.requests if r.json]
    assert sent[3:] == sent[:3]  # the same history, system prompt and image included
    assert sent[2][-1]["content"][1] == {"type": "image_url", "image_url": {"url": PNG}}
    assert sent[0][0] == {"role": "system", "content": "Be brief."}
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert [x["messages"][0]["content"] for x in lines] == [
        "hello {braces}",
        "hostile",
        sent[2][-1]["content"],
    ]
    for path in (log, tmp_path / "lesson.ipynb", tmp_path / "lesson.json"):
        assert SENTINEL_KEY not in path.read_text()
