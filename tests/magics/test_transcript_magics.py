"""``%chat export`` / ``%chat import`` and ``ChatSettings.log_path`` in a real shell.

A real InteractiveShell with the extension loaded, a loopback FaultServer
answering (tests/servers/conversation.py). A thread goes out in every format
and comes back; the exported notebook, run cell by cell in a fresh session,
holds the same conversation again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import nscale_jupyter._api as api
from nscale_jupyter._session import Session
from tests.servers import conversation
from tests.servers.fault_server import FaultServer

from .conftest import KEY, ipython_shell


@pytest.fixture
def srv() -> Iterator[FaultServer]:
    with FaultServer() as server:
        server.respond = conversation.respond
        yield server


def fresh_session(srv: FaultServer) -> Session:
    session = Session(api_key=KEY)
    session.settings.base_url = srv.base_url
    api.set_default_session(session)
    return session


@pytest.fixture
def ip(srv: FaultServer) -> Iterator[InteractiveShell]:
    shell = ipython_shell()
    fresh_session(srv)
    shell.run_line_magic("load_ext", "nscale_jupyter")
    yield shell
    shell.run_line_magic("unload_ext", "nscale_jupyter")
    shell.user_ns.pop("_", None)
    shell.user_ns.pop("there", None)
    shell.config.pop("ChatSettings", None)


def converse(ip: InteractiveShell) -> Session:
    ip.run_line_magic("chat", "thread lesson")
    ip.run_line_magic("chat", 'system "Be brief."')
    with capture_output():
        ip.run_cell_magic("chat", "", "hello {there}")  # braces: interpolation is asked for
        ip.run_cell_magic("chat", "--no-interpolate", "what about {braces}?")
    return api.default_session()


def test_export_in_every_format_and_import_back(
    ip: InteractiveShell, srv: FaultServer, tmp_path: Path
) -> None:
    ip.user_ns["there"] = "world"
    session = converse(ip)
    lesson = session.thread("lesson")
    assert [m.text for m in lesson.messages][::2] == ["hello world", "what about {braces}?"]
    for suffix in ("json", "md", "html", "ipynb"):
        with capture_output() as cap:
            ip.run_line_magic("chat", f"export {tmp_path}/lesson.{suffix}")
        assert cap.stdout.strip() == f"thread lesson written to {tmp_path}/lesson.{suffix}"
    assert "Echo: hello world" in (tmp_path / "lesson.md").read_text()
    nbformat.validate(nbformat.read(tmp_path / "lesson.ipynb", as_version=4))

    with capture_output() as cap:
        ip.run_line_magic("chat", f"import {tmp_path}/lesson.json --thread copy")
    assert "imported thread copy (4 messages); it is the current thread" in cap.stdout
    assert session.current == "copy"
    assert session.history(session.thread("copy")) == session.history(lesson)
    with pytest.raises(UsageError, match="thread 'lesson' already has 4 messages"):
        ip.run_line_magic("chat", f"import {tmp_path}/lesson.json")
    ip.run_line_magic("chat", "thread lesson")
    ip.run_line_magic("chat", "undo")
    with capture_output():
        ip.run_line_magic("chat", f"import {tmp_path}/lesson.json --replace")
    assert session.thread("lesson").messages == session.thread("copy").messages
    assert len(srv.requests) == 3  # the models list and two turns: nothing else was sent


def test_a_line_that_does_not_fit_is_a_prompt(ip: InteractiveShell, srv: FaultServer) -> None:
    with capture_output():
        ip.run_line_magic("chat", "export my notes please")
        ip.run_line_magic("chat", "export notes.md --thread")
    prompts = [r.json["messages"][-1]["content"] for r in srv.requests if r.json]
    assert prompts == ["export my notes please", "export notes.md --thread"]


def test_a_file_of_the_wrong_kind_or_no_file_is_an_error_not_a_prompt(
    ip: InteractiveShell, srv: FaultServer
) -> None:
    """Found trying it: ``%chat export notes.txt`` and a bare ``%chat export`` were sent
    to the model as questions."""
    with pytest.raises(UsageError, match=r"notes\.txt: export to a file ending in \.json"):
        ip.run_line_magic("chat", "export notes.txt")
    with pytest.raises(UsageError, match=r"notes\.md: import reads a \.json transcript"):
        ip.run_line_magic("chat", "import notes.md")
    for bare in ("export", "import", "thread", "set"):
        with pytest.raises(UsageError, match=r"usage: %chat " + bare):
            ip.run_line_magic("chat", bare)
    assert not [r for r in srv.requests if r.json]


def test_bad_files_and_names_are_one_line_usage_errors(
    ip: InteractiveShell, tmp_path: Path
) -> None:
    (tmp_path / "bad.json").write_text('{"format": "nscale-jupyter transcript", "version": 9}')
    with pytest.raises(UsageError, match=r"bad\.json: version 9: written by a newer"):
        ip.run_line_magic("chat", f"import {tmp_path}/bad.json")
    with pytest.raises(UsageError, match=r"%chat import: .*No such file"):
        ip.run_line_magic("chat", f"import {tmp_path}/missing.json")
    with pytest.raises(UsageError, match="%chat export: no thread named 'nope'"):
        ip.run_line_magic("chat", f"export {tmp_path}/x.json --thread nope")
    with capture_output():
        ip.run_line_magic("chat", "thread empty")
    with pytest.raises(UsageError, match=r"%chat export: .*No such file"):
        ip.run_line_magic("chat", f"export {tmp_path}/no/dir/x.md")


def test_log_path_set_with_config_logs_each_cell(ip: InteractiveShell, tmp_path: Path) -> None:
    log = tmp_path / "class.jsonl"
    ip.run_line_magic("config", f"ChatSettings.log_path = {str(log)!r}")
    ip.user_ns["there"] = "world"
    converse(ip)
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert [x["thread"] for x in lines] == ["lesson", "lesson"]
    assert [x["system"] for x in lines] == ["Be brief.", "Be brief."]
    assert [x["messages"][0]["content"] for x in lines] == ["hello world", "what about {braces}?"]
    with capture_output() as cap:
        ip.run_line_magic("chat", "settings")
    assert f"log_path = {str(log)!r}" in cap.stdout


def test_the_exported_notebook_runs_again_into_the_same_thread(
    ip: InteractiveShell, srv: FaultServer, tmp_path: Path
) -> None:
    ip.user_ns["there"] = "world"
    before = converse(ip).thread("lesson")
    with capture_output():
        ip.run_line_magic("chat", f"export {tmp_path}/lesson.ipynb")
    nb = nbformat.read(tmp_path / "lesson.ipynb", as_version=4)
    ip.run_line_magic("unload_ext", "nscale_jupyter")
    ip.user_ns.pop("there")  # the prompt went as sent: no interpolation on the rerun
    session = fresh_session(srv)
    with capture_output():
        for cell in nb.cells:
            if cell.cell_type == "code":
                result = ip.run_cell(cell.source)
                assert result.success, (cell.source, result.error_in_exec)
    again = session.thread("lesson")
    assert session.history(again) == session.history(before)
    assert again.messages == before.messages
