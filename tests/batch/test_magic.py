"""%%chat --over VAR: the cell is the template, the batch result goes to ``_`` / ``--out``."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

import nscale_jupyter._api as api
from nscale_jupyter._batch import BatchRun
from nscale_jupyter._rows import BatchResult
from tests.magics.conftest import ipython_shell
from tests.servers.fault_server import FaultServer

from .helpers import Echo, chats, session_for


@pytest.fixture
def srv() -> Iterator[FaultServer]:
    with FaultServer() as server:
        server.respond = Echo()  # type: ignore[assignment]
        yield server


@pytest.fixture
def ip(srv: FaultServer) -> Iterator[InteractiveShell]:
    shell = ipython_shell()
    api.set_default_session(session_for(srv))
    shell.run_line_magic("load_ext", "nscale_jupyter")
    yield shell
    shell.run_line_magic("unload_ext", "nscale_jupyter")
    for name in ("_", "items", "frame", "answers"):
        shell.user_ns.pop(name, None)


def test_over_a_list_gives_a_batch_result(ip: InteractiveShell, srv: FaultServer) -> None:
    ip.user_ns["items"] = ["cat", "dog", "eel"]
    ip.run_cell_magic("chat", "--over items --concurrency 2 -m fake -q --temperature 0",
                      "Describe a {item}\n")  # fmt: skip
    result = ip.user_ns["_"]
    assert isinstance(result, BatchResult)
    assert result.answers == ["<Describe a cat>", "<Describe a dog>", "<Describe a eel>"]
    assert {r.json["temperature"] for r in chats(srv)} == {0}
    assert srv.max_concurrent <= 2
    assert api.default_session().threads.get("default") is None  # nothing recorded


def test_into_makes_a_new_frame(ip: InteractiveShell) -> None:
    frame = pd.DataFrame({"word": ["a", "b"]})
    ip.user_ns["frame"] = frame
    ip.run_cell_magic("chat", "--over frame --into reply --out answers -m fake -q", "Say {word}")
    out = ip.user_ns["answers"]
    assert out["reply"].tolist() == ["<Say a>", "<Say b>"]
    assert list(frame.columns) == ["word"]  # the user's frame is not changed
    assert ip.user_ns["_"] is out


def test_batch_flags_are_checked(ip: InteractiveShell) -> None:
    with pytest.raises(UsageError, match="no variable"):
        ip.run_cell_magic("chat", "--over missing -m fake", "x")
    with pytest.raises(UsageError, match="go with --over"):
        ip.run_cell_magic("chat", "--into col -m fake", "x")
    ip.user_ns["items"] = [{"a": 1}]
    with pytest.raises(UsageError, match="no field"):
        ip.run_cell_magic("chat", "--over items -m fake -q", "{b}")
    with pytest.raises(UsageError, match="go with --over"):
        ip.run_cell_magic("chat", "--no-wait -m fake", "x")
    with pytest.raises(UsageError, match="--into needs the finished batch"):
        ip.run_cell_magic("chat", "--over items --no-wait --into col -m fake", "{a}")


def test_no_wait_gives_back_the_running_batch(
    ip: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    """In a terminal a batch left running draws no progress line over what comes next."""
    ip.user_ns["items"] = ["cat", "dog"]
    ip.run_cell_magic("chat", "--over items --no-wait --out answers -m fake", "Describe a {item}")
    run = ip.user_ns["answers"]
    assert isinstance(run, BatchRun) and ip.user_ns["_"] is run
    assert run.result(timeout=30).answers == ["<Describe a cat>", "<Describe a dog>"]
    assert capsys.readouterr().err == ""
