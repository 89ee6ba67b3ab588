"""Threads out and back through a file, and the teacher's log, against a loopback server.

A conversation with every kind of message (a system prompt, an image, a tool
that runs, a call left for a person, reasoning) is exported to JSON and
imported into a fresh session: the history it sends next is the same, and
the imported thread goes on (the person's answer reaches the model). The log
gets one line per recorded or kept turn, from every face, never the key.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest

from nscale_jupyter import ImagePart, Message, NscaleError, TextPart, answer, batch, chat
from nscale_jupyter._export import SUFFIXES, export_thread, import_thread
from nscale_jupyter._session import Session
from nscale_jupyter._tools import ToolRegistry
from nscale_jupyter._transcript import LOG_FORMAT, TranscriptError
from nscale_jupyter._turn import TurnSpec
from nscale_jupyter._turn_events import TurnNotice
from tests.servers import conversation, key_echo
from tests.servers.conversation import PNG
from tests.servers.fault_server import FaultServer

KEY = "sk-SENTINEL-archive-5b1c"


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def session_for(srv: FaultServer) -> Session:
    session = Session(api_key=KEY)
    session.settings.base_url = srv.base_url
    session.tools = ToolRegistry()
    session.tools.register(add)
    return session


@pytest.fixture
def srv() -> Any:
    with FaultServer() as server:
        server.respond = conversation.respond
        yield server


def converse(session: Session) -> None:
    """Every kind of message into thread "t", ending with a call that waits for a person."""
    session.settings.system = "Be brief."
    chat("hello", thread="t", session=session)
    chat(
        [Message.user([TextPart("what is this?"), ImagePart(PNG, "low")])],
        thread="t",
        session=session,
    )
    chat("add", thread="t", tools=["add"], session=session)
    chat("ask", thread="t", tools=[conversation.LOOKUP], session=session)


def test_a_thread_exported_and_imported_sends_the_same_history(
    srv: FaultServer, tmp_path: Path
) -> None:
    session = session_for(srv)
    converse(session)
    before = session.thread("t")
    roles = [m.role for m in before.messages]
    assert roles == ["user", "assistant"] * 2 + ["user", "assistant", "tool", "assistant"] + [
        "user",
        "assistant",
    ]
    assert [c.id for c in before.pending] == ["call_ask"]
    path = export_thread(tmp_path / "t.json", "t", session=session)

    fresh = Session(api_key=KEY)
    fresh.settings.base_url = srv.base_url  # no system prompt of its own: the file's is used
    assert import_thread(path, session=fresh) == "t"
    after = fresh.thread("t")
    assert fresh.history(after) == session.history(before)
    assert fresh.history(after)[0] == Message.system("Be brief.")
    assert after.messages == before.messages and after.pending == before.pending
    assert after.answers == before.answers
    reasoning = [a.reasoning for _, a in sorted(after.answers.items())]
    assert reasoning == ["Let me think.", "Let me think.", None, "The tool answered.", None]
    assert all(
        a.provenance and a.provenance.served_model == "fake" for a in after.answers.values()
    )
    # The imported thread goes on: the person's answer reaches the model, in the same history.
    result = answer("call_ask", "high tide at six", session=fresh)
    assert result is not None and result.text == "The tool said high tide at six."
    sent = srv.requests[-1].json["messages"]
    assert sent[:-1] == [m.to_json() for m in session.history(before)]
    assert sent[-1] == {"role": "tool", "content": "high tide at six", "tool_call_id": "call_ask"}


def test_import_refuses_a_thread_with_messages_unless_replaced(
    srv: FaultServer, tmp_path: Path
) -> None:
    session = session_for(srv)
    chat("hello", thread="t", session=session)
    path = export_thread(tmp_path / "t.json", "t", session=session)
    chat("more", thread="t", session=session)
    with pytest.raises(TranscriptError, match="thread 't' already has 4 messages"):
        import_thread(path, session=session)
    assert len(session.thread("t").messages) == 4  # untouched
    assert import_thread(path, "copy", session=session) == "copy"
    assert import_thread(path, session=session, replace=True) == "t"
    assert session.thread("t").messages == session.thread("copy").messages
    assert [m.text for m in session.thread("t").messages] == ["hello", "Echo: hello"]


def test_export_refuses_an_unknown_suffix_or_thread(srv: FaultServer, tmp_path: Path) -> None:
    session = session_for(srv)
    chat("hello", thread="t", session=session)
    with pytest.raises(TranscriptError, match=r"ending in \.json, \.md, \.html, \.ipynb"):
        export_thread(tmp_path / "t.txt", "t", session=session)
    with pytest.raises(TranscriptError, match="no thread named 'nope'"):
        export_thread(tmp_path / "t.json", "nope", session=session)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(TranscriptError, match=r"bad\.json: not JSON"):
        import_thread(tmp_path / "bad.json", session=session)
    with pytest.raises(TranscriptError, match=r"import reads a \.json transcript"):
        import_thread(tmp_path / "t.md", session=session)
    assert list(tmp_path.iterdir()) == [tmp_path / "bad.json"]


def log_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_log_has_one_line_per_recorded_or_kept_turn(srv: FaultServer, tmp_path: Path) -> None:
    session = session_for(srv)
    log = tmp_path / "turns.jsonl"
    session.settings.log_path = str(log)
    chat("hello", thread="t", session=session)
    chat("one-off", session=session)  # no thread: logged, recorded nowhere
    chat("add", thread="t", tools=["add"], session=session)
    # The panel's live run is not recorded (not logged) until it is kept.
    outcome = session.turn(TurnSpec((Message.user("draft"),), thread="t", record=False)).wait()
    assert len(log_lines(log)) == 3
    session.settings.system = "Changed after the run."
    session.keep(outcome)
    batch(["a", "b"], session=session, progress=False)  # rows: not logged (a checkpoint is theirs)
    lines = log_lines(log)
    assert [(x["thread"], x["kept"]) for x in lines] == [
        ("t", False),
        (None, False),
        ("t", False),
        ("t", True),
    ]
    assert all(x["format"] == LOG_FORMAT and x["version"] == 1 for x in lines)
    first = lines[0]
    assert [(m["role"], m["content"]) for m in first["messages"]] == [
        ("user", "hello"),
        ("assistant", "Echo: hello"),
    ]
    assert first["messages"][1]["reasoning"] == "Let me think."
    assert first["messages"][1]["provenance"]["served_model"] == "fake"
    assert first["usage"] == {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
    tools = lines[2]
    assert [m["role"] for m in tools["messages"]] == ["user", "assistant", "tool", "assistant"]
    assert tools["messages"][2]["content"] == "5" and tools["usage"]["total_tokens"] == 20
    assert lines[3]["messages"][0]["content"] == "draft"
    assert lines[3]["system"] is None  # the system prompt the kept run was sent with
    assert all("answered" not in x for x in lines)


def test_a_turn_going_on_after_an_answer_by_hand_logs_the_answer(
    srv: FaultServer, tmp_path: Path
) -> None:
    session = session_for(srv)
    log = tmp_path / "turns.jsonl"
    session.settings.log_path = str(log)
    chat("ask", thread="t", tools=[conversation.LOOKUP], session=session)
    answer("call_ask", "at six", session=session)
    asked, went_on = log_lines(log)
    assert [m["role"] for m in asked["messages"]] == ["user", "assistant"]
    assert asked["messages"][1]["tool_calls"][0]["id"] == "call_ask"
    assert went_on["answered"] == [
        {"role": "tool", "content": "at six", "tool_call_id": "call_ask"}
    ]
    assert [m["content"] for m in went_on["messages"]] == ["The tool said at six."]


def test_a_log_that_cannot_be_written_leaves_the_turn_standing(
    srv: FaultServer, tmp_path: Path
) -> None:
    session = session_for(srv)
    session.settings.log_path = str(tmp_path)  # a directory
    events = list(session.turn(TurnSpec((Message.user("hello"),), thread="t")))
    notices = [e.text for e in events if isinstance(e, TurnNotice)]
    assert len(notices) == 1 and notices[0].startswith("log_path: could not write")
    assert [m.text for m in session.thread("t").messages] == ["hello", "Echo: hello"]


def test_a_key_the_server_echoes_reaches_no_export_and_no_log(tmp_path: Path) -> None:
    log = tmp_path / "turns.jsonl"
    with FaultServer() as server:
        server.respond = key_echo.respond
        session = session_for(server)
        session.settings.log_path = str(log)
        for prompt in key_echo.ERRORS + key_echo.REPLIES:
            with contextlib.suppress(NscaleError):
                chat(prompt, thread="k", session=session, stream=prompt != "full")
        assert server.requests[-1].headers["authorization"] == f"Bearer {KEY}"
    messages = session.thread("k").messages
    assert "Your key is sk-[API key hidden]" in " ".join(m.text for m in messages)
    written = {s: export_thread(tmp_path / f"k{s}", "k", session=session) for s in SUFFIXES}
    texts = {s: p.read_text() for s, p in written.items()} | {"log": log.read_text()}
    assert len(log_lines(log)) == len(key_echo.ERRORS + key_echo.REPLIES)
    for where, text in texts.items():
        assert KEY not in text and not key_echo.leaks(KEY, text), where
        assert "Your key is" in text, where  # the reply is there, scrubbed
