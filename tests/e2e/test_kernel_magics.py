"""%%chat in a real kernel (nbclient) against a loopback streaming server."""

from __future__ import annotations

import nbformat
import pytest

from tests.servers.fault_server import FaultServer, text_reply

from .kernel import SENTINEL_KEY, errors, notebook, run_notebook, texts

pytestmark = pytest.mark.kernel


def test_streaming_cells_in_a_kernel() -> None:
    words = [f"w{i} " for i in range(2000)]
    with FaultServer() as srv:
        srv.enqueue(
            text_reply(["Hello", " from", " the", " kernel"]),
            text_reply(words, interval=0.001),
            text_reply(["<script>x</script>"]),
        )
        nb = notebook(
            "%load_ext nscale_jupyter",
            "%%chat -m fake -t 0\nHello?",
            "%%chat -m fake\nA long one, please.",
            "%%chat -m fake\nSomething hostile",
            "print(_.text[:7], len(_.choices))",
            "%chat history",
        )
        client = run_notebook(
            nb, {"NSCALE_BASE_URL": srv.base_url, "NSCALE_API_KEY": SENTINEL_KEY}
        )
        assert errors(nb) == []
        first = nb.cells[1].outputs
        markdown = [
            o["data"]["text/markdown"] for o in first if "text/markdown" in o.get("data", {})
        ]
        assert markdown and markdown[0].startswith("Hello from the kernel")
        long_md = [
            o["data"]["text/markdown"]
            for o in nb.cells[2].outputs
            if "text/markdown" in o.get("data", {})
        ]
        assert "".join(words) in long_md[0]
        # 2,000 tokens, but display updates are coalesced to a fixed rate.
        updates = client.message_counts.get("update_display_data", 0)
        print(f"update_display_data messages for 2,000 tokens: {updates}")
        assert 0 < updates < 400
        assert "<script>" not in texts(nb.cells[3]).replace("\\u003c", "<").split("text/plain")[0]
        assert "&lt;script>" in texts(nb.cells[3])
        assert "<script" in nb.cells[4].outputs[0]["text"]
        assert srv.requests[-1].headers["authorization"] == f"Bearer {SENTINEL_KEY}"
        chats = [r.json for r in srv.requests if r.path.endswith("/chat/completions")]
        assert chats[1]["messages"][-1]["content"] == "A long one, please."
    assert SENTINEL_KEY not in nbformat.writes(nb)


def test_the_kernels_we_start_are_encrypted(capfd: pytest.CaptureFixture[str]) -> None:
    """A new user's ``make demo`` shows no "running over TCP without encryption" warning."""
    nb = notebook(
        "import json; from ipykernel.connect import get_connection_file\n"
        "print(sorted(k for k in json.load(open(get_connection_file())) if 'curve' in k))",
        "%load_ext nscale_jupyter",
    )
    run_notebook(nb, {})
    assert errors(nb) == []
    assert "curve" in texts(nb.cells[0])
    assert "without encryption" not in capfd.readouterr().err
