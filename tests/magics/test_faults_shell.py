"""Faults seen from a real InteractiveShell, served by the loopback FaultServer.

The same fault table as the kernel test (tests/servers/faults.py), in both
the terminal rendering (printed text) and the notebook rendering (Markdown
display updates): each cell ends with one clear message and no traceback,
what arrived stays on screen marked, history stays consistent, the next
cell works, and the key shows nowhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import nscale_jupyter._api as api
from nscale_jupyter._magics import ChatMagics
from nscale_jupyter._session import Session
from tests.servers.fault_server import FaultServer, text_reply
from tests.servers.faults import FAULTS

from .conftest import KEY, ipython_shell


@pytest.fixture(scope="module")
def srv() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


@pytest.fixture(params=["terminal", "notebook"])
def shell(
    request: pytest.FixtureRequest, srv: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[InteractiveShell]:
    if request.param == "notebook":  # render Markdown display updates, as in a kernel
        monkeypatch.setattr(ChatMagics, "_terminal", lambda self: False)
    shell = ipython_shell()
    api.set_default_session(Session(api_key=KEY))
    shell.run_line_magic("load_ext", "nscale_jupyter")
    api.default_session().settings.base_url = srv.base_url
    yield shell
    shell.run_line_magic("unload_ext", "nscale_jupyter")
    shell.user_ns.pop("_", None)


def run(shell: InteractiveShell, source: str) -> tuple[Any, str, str, str]:
    """Run a cell as a user would: (result, everything shown, stderr, rendered markup)."""
    with capture_output() as cap:
        result = shell.run_cell(source)
    shown = cap.stdout + json.dumps([o.data for o in cap.outputs], ensure_ascii=False)
    markup = "".join(
        o.data.get(kind, "") for o in cap.outputs for kind in ("text/markdown", "text/html")
    )
    return result, shown, cap.stderr, markup


@pytest.mark.parametrize("name", list(FAULTS))
def test_fault(shell: InteractiveShell, srv: FaultServer, name: str) -> None:
    fault = FAULTS[name]
    session = api.default_session()
    if fault.timeout is not None:
        session.settings.timeout = fault.timeout
    srv.replies.clear()
    srv.enqueue(*fault.replies)
    before = len(session.thread().messages)

    result, shown, stderr, markup = run(shell, f"%%chat -m fake\n{name}")

    assert result.error_in_exec is None and result.error_before_exec is None
    for text in (shown, stderr):
        assert "Traceback" not in text and KEY not in text
    terminal = ChatMagics._terminal(shell.magics_manager.registry["ChatMagics"])
    for expected in [*fault.shown, *fault.transient]:  # captured: every update too
        if terminal and expected.startswith("&lt;"):  # the terminal prints text, not HTML
            expected = expected.replace("&lt;", "<")
        assert expected in shown + stderr, (expected, shown, stderr)
    if fault.message is not None:
        assert fault.message in stderr
        assert len([line for line in stderr.splitlines() if line.startswith("nscale: ")]) >= 1
    assert "<script" not in markup and "<img" not in markup  # model text is escaped
    added = session.thread().messages[before:]
    if fault.recorded is None:
        assert added == []  # a failed request adds nothing
    else:
        assert [m.role for m in added] == ["user", "assistant"]
        assert added[1].text == fault.recorded and added[1].truncated == fault.cut_off
    assert srv.replies == []  # retried exactly as often as the table says

    srv.enqueue(text_reply(["next", " works"]))
    session.settings.timeout = 600.0
    result, shown, _, _ = run(shell, "%%chat -m fake\nagain")
    assert result.error_in_exec is None and "next works" in shown
    assert srv.wait_idle()  # no connection left behind
