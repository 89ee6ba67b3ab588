"""``%%chat`` in a real InteractiveShell against a server that repeats the key.

Each shape of tests/servers/key_echo.py, in the terminal and the notebook
rendering: stdout, stderr, every display output (the footer included), the
log records at DEBUG and the thread's history hold no run of the key.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import nscale_jupyter._api as api
from nscale_jupyter._magics import ChatMagics
from nscale_jupyter._redact import MASK
from nscale_jupyter._session import Session
from tests.servers.fault_server import FaultServer
from tests.servers.key_echo import ERRORS, REPLIES, leaks, respond

from .conftest import KEY, ipython_shell


@pytest.fixture(scope="module")
def srv() -> Iterator[FaultServer]:
    with FaultServer() as server:
        server.respond = respond
        yield server


@pytest.fixture(params=["terminal", "notebook"])
def shell(
    request: pytest.FixtureRequest, srv: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[InteractiveShell]:
    if request.param == "notebook":
        monkeypatch.setattr(ChatMagics, "_terminal", lambda self: False)
    shell = ipython_shell()
    api.set_default_session(Session(api_key=KEY))
    shell.run_line_magic("load_ext", "nscale_jupyter")
    api.default_session().settings.base_url = srv.base_url
    yield shell
    shell.run_line_magic("unload_ext", "nscale_jupyter")
    shell.user_ns.pop("_", None)


def test_every_echo_is_scrubbed(
    shell: InteractiveShell, srv: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    shown: dict[str, str] = {}
    for prompt in ERRORS + REPLIES:
        flags = " --no-stream" if prompt == "full" else ""
        with capture_output() as cap:
            result = shell.run_cell(f"%%chat -m fake{flags}\n{prompt}")
        assert result.error_before_exec is None and result.error_in_exec is None, prompt
        shown[prompt] = (
            cap.stdout + cap.stderr + json.dumps([o.data for o in cap.outputs], ensure_ascii=False)
        )
    assert srv.requests[-1].headers["authorization"] == f"Bearer {KEY}"
    session = api.default_session()
    history = json.dumps(
        [(m.role, m.text, repr(m)) for m in session.thread().messages], ensure_ascii=False
    )
    last = repr(shell.user_ns.get("_"))
    records = "\n".join(r.getMessage() for r in caplog.records)
    assert "HTTP Request" in records
    for where, text in [*shown.items(), ("history", history), ("_", last), ("logs", records)]:
        assert KEY not in text and not leaks(KEY, text), (where, leaks(KEY, text), text)
    for prompt in ("401", "500", "html", "escaped", "instream", "stream", "tools", "full"):
        assert MASK in shown[prompt], (prompt, shown[prompt])  # scrubbed, still said
    assert "Incorrect API key provided" in shown["401"]
    assert "Partial answer." in shown["instream"]  # what arrived stays on screen
    assert "Your key is" in history and "Done." in history and MASK in history
