"""Everything a user can type gets what they meant, or one clear line: never a traceback.

A real IPython shell with the extension loaded; the client on MockTransport
(``tests/magics/conftest.py``) or on the loopback FaultServer where the
network matters (interrupts, stalls, retries).
"""

from __future__ import annotations

import _thread
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from IPython.core.error import StdinNotImplementedError, UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import nscale_jupyter._api as api
import nscale_jupyter._session as session_module
from nscale_jupyter import chat
from nscale_jupyter._magics import ChatMagics
from nscale_jupyter._options import OptionError
from nscale_jupyter._session import Session
from tests.core.streams import choice, chunk, role, sse, stream_response
from tests.servers.fault_server import FaultServer, Reply, text_reply

from .conftest import KEY, Server, ipython_shell


def run(ip: InteractiveShell, source: str) -> tuple[Any, Any]:
    """Run a cell as a user would: (result, captured output)."""
    with capture_output() as cap:
        result = ip.run_cell(source)
    return result, cap


def one_line_error(result: Any, cap: Any) -> str:
    """The cell failed with one short message and no traceback; returns the message."""
    error = result.error_in_exec or result.error_before_exec
    assert "Traceback" not in cap.stdout + cap.stderr
    assert isinstance(error, UsageError), error
    assert "\n" not in str(error)
    return str(error)


def sent(server: Server) -> list[str]:
    return [b["messages"][-1]["content"] for b in server.bodies]


# -- questions, quotes, subcommand names -------------------------------------------------
@pytest.mark.parametrize(
    "line",
    [
        "How are you?",
        "what's the weather like",
        "help me write a poem",
        "new ideas for a startup",
        "history of rome",
        "key points of X",
        "system prompt design is hard",
        "undo the last change",
        "set up a server for me",
        "models are fun, aren't they?",
        'say "hi" twice',
    ],
)
def test_a_line_that_does_not_fit_a_subcommand_is_a_prompt(
    ip: InteractiveShell, server: Server, line: str
) -> None:
    result, cap = run(ip, f"%chat {line}")
    assert result.error_in_exec is None and result.error_before_exec is None, cap.stderr
    assert sent(server) == [line]
    assert "Hello!" in cap.stdout


def test_subcommands_still_run_when_their_arguments_fit(
    ip: InteractiveShell, server: Server
) -> None:
    run(ip, '%chat system "Be brief."')
    run(ip, "%chat new")
    result, cap = run(ip, "%chat -t 0 what's up?")
    assert result.error_in_exec is None
    assert server.last["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "what's up?"},
    ]
    assert server.last["temperature"] == 0
    _, cap = run(ip, "%chat help")
    assert "%chat new [THREAD]" in cap.stdout and not server.bodies[1:]
    run(ip, "%chat?")  # IPython's help on the magic, not a prompt
    assert len(server.bodies) == 1


def test_a_tool_answer_is_sent_exactly_as_typed(ip: InteractiveShell, server: Server) -> None:
    ip.user_ns["weather"] = [
        {"type": "function", "function": {"name": "get_weather", "parameters": {}}}
    ]
    head = {"id": "c1", "type": "function", "index": 0,
            "function": {"name": "get_weather", "arguments": "{}"}}  # fmt: skip
    server.script(
        lambda r: stream_response(
            sse([chunk(role()), chunk(choice(tool_calls=[head], finish_reason="tool_calls"))])
        )
    )
    run(ip, "%%chat --tools weather\nweather?")
    answer = '{"temp": 21,  "path": "C:\\\\tmp"}'
    run(ip, f"%chat tool-result c1 {answer}")
    assert server.last["messages"][-1]["content"] == answer


# -- one line for every mistake ----------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "needle"),
    [
        ("%%chat --max-tool-rounds 0\nhi", "--max-tool-rounds: at least 1"),
        ("%%chat --max-tool-rounds -1\nhi", "--max-tool-rounds: at least 1"),
        ("%%chat --stop ''\nhi", "--stop: stop strings must be non-empty"),
        ("%%chat --out 1bad\nhi", "--out: '1bad' is not a variable name"),
        ("%%chat --model ''\nhi", "--model: empty"),
        ("%%chat --seed 99999999999999999999\nhi", "--seed: 99999999999999999999 is out"),
        ("%chat set temperature='0.7", "No closing quotation"),
        ("%chat compare tools=a,b", "tools cannot be compared"),
        ("%chat --stop 'oops hi", "No closing quotation"),
        ("%%chat\n{s}", "not text"),
    ],
)
def test_mistakes_are_one_line(
    ip: InteractiveShell, server: Server, source: str, needle: str
) -> None:
    ip.user_ns["s"] = "bad \ud800 text"
    run(ip, "%%chat\nfirst")  # something to compare
    result, cap = run(ip, source)
    assert needle in one_line_error(result, cap)
    assert len(server.bodies) == 1  # nothing more was sent


def test_a_base_url_that_is_not_one_is_one_line(ip: InteractiveShell, server: Server) -> None:
    ip.run_line_magic("config", "ChatSettings.base_url = 'not a url'")
    result, cap = run(ip, "%%chat\nhi")
    assert "not an http(s) URL" in one_line_error(result, cap) and server.bodies == []


def test_seed_range_reads_as_whole_numbers() -> None:
    from nscale_jupyter._options import option

    assert option("seed").range_text == "[-9223372036854775808, 9223372036854775807]"


def test_interpolation_runs_no_calls(ip: InteractiveShell, server: Server) -> None:
    result, cap = run(ip, "%%chat\nsay {print('x')} and {open('/etc/passwd').read()}")
    assert result.error_in_exec is None and "x\n" not in cap.stdout
    assert sent(server) == ["say {print('x')} and {open('/etc/passwd').read()}"]


def test_set_splits_stop_like_tools(ip: InteractiveShell, server: Server) -> None:
    ip.run_line_magic("chat", "set stop=END,###")
    run(ip, "%%chat\nhi")
    assert server.last["stop"] == ["END", "###"]
    ip.run_line_magic("chat", """set 'stop=["a,b", "c"]'""")
    run(ip, "%%chat\nhi")
    assert server.last["stop"] == ["a,b", "c"]
    with capture_output():
        ip.run_cell("%config ChatSettings.stop = ['']")
    assert api.default_session().settings.stop == ["a,b", "c"]
    run(ip, "%%chat\nhi")
    assert server.last["stop"] == ["a,b", "c"]  # the refused value never reached a request


def test_chat_refuses_what_is_not_a_prompt(server: Server, ip: InteractiveShell) -> None:
    with pytest.raises(OptionError, match="expected text or messages"):
        chat(None)  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="a message needs a 'role'"):
        chat([{"rol": "user", "content": "x"}])
    assert server.bodies == []


def test_no_key_in_a_front_end_that_cannot_ask(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    def cannot(prompt: str = "") -> str:
        raise StdinNotImplementedError("getpass is not supported in this frontend")

    monkeypatch.delenv("NSCALE_API_KEY", raising=False)
    monkeypatch.delenv("NSCALE_BASE_URL", raising=False)
    monkeypatch.setattr("getpass.getpass", cannot)
    shell = ipython_shell()
    api.set_default_session(Session(transport=httpx.MockTransport(server)))
    shell.run_line_magic("load_ext", "nscale_jupyter")
    try:
        for source in ("%%chat\nhi", "%chat key"):
            result, cap = run(shell, source)
            assert "set NSCALE_API_KEY" in one_line_error(result, cap)
        assert server.recorder.requests == []
    finally:
        shell.run_line_magic("unload_ext", "nscale_jupyter")


def test_a_forced_tool_choice_is_warned_about_on_nscale_only(
    ip: InteractiveShell, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    ip.user_ns["w"] = [{"type": "function", "function": {"name": "f", "parameters": {}}}]
    _, cap = run(ip, "%%chat --tools w --tool-choice required\nhi")
    assert "documents tool_choice" not in cap.stderr  # a test server: no warning
    monkeypatch.setattr(session_module, "DEFAULT_BASE_URL", "https://api.test/v1")
    _, cap = run(ip, "%%chat --tools w --tool-choice required\nhi")
    assert 'documents tool_choice "auto" and "none" only' in cap.stderr
    assert server.last["tool_choice"] == "required"  # sent anyway


# -- interrupts and a server that does not answer -----------------------------------------
@pytest.fixture
def live(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[InteractiveShell, FaultServer]]:
    monkeypatch.setattr(ChatMagics, "_terminal", lambda self: False)  # render as a notebook
    with FaultServer() as srv:
        shell = ipython_shell()
        api.set_default_session(Session(api_key=KEY))
        shell.run_line_magic("load_ext", "nscale_jupyter")
        api.default_session().settings.base_url = srv.base_url
        try:
            yield shell, srv
        finally:
            shell.run_line_magic("unload_ext", "nscale_jupyter")
            shell.user_ns.pop("_", None)


def interrupt_when(condition: Any) -> None:
    def watch() -> None:
        deadline = time.monotonic() + 10
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.01)
        _thread.interrupt_main()

    threading.Thread(target=watch, daemon=True).start()


def test_interrupt_while_a_tool_runs(live: Any) -> None:
    shell, srv = live
    running = threading.Event()

    def slow(city: str) -> str:
        """Slow lookup."""
        running.set()
        time.sleep(2)
        return city

    shell.user_ns["slow"] = slow
    head = {"id": "c1", "type": "function", "index": 0,
            "function": {"name": "slow", "arguments": '{"city": "Oslo"}'}}  # fmt: skip
    srv.enqueue(Reply(events=[sse([chunk(role()), chunk(choice(tool_calls=[head],
                                   finish_reason="tool_calls"))])]))  # fmt: skip
    interrupt_when(running.is_set)
    result, cap = run(shell, "%%chat -m fake --tools slow\nlook it up")
    assert result.error_in_exec is None and "Traceback" not in cap.stderr
    assert "interrupted" in cap.stderr
    cards = [o.data.get("text/html", "") for o in cap.outputs]
    assert any("nscale-toolcard" in c and "[interrupted]" in c for c in cards)
    messages = api.default_session().thread().messages
    assert [m.role for m in messages] == ["user", "assistant", "tool"]
    assert messages[2].tool_call_id == "c1" and "cut off" in messages[2].text
    srv.enqueue(text_reply(["next"]))
    result, cap = run(shell, "%%chat -m fake\nagain")  # the thread is still valid
    assert result.error_in_exec is None and "next" in str(cap.outputs[-1].data)


def test_interrupt_during_a_retry_wait(live: Any) -> None:
    shell, srv = live
    srv.enqueue(Reply(status=429, body=b'{"error": {"message": "slow down"}}',
                      headers={"retry-after": "30"}))  # fmt: skip
    interrupt_when(lambda: len(srv.requests) >= 2)  # /models, then the 429
    started = time.monotonic()
    result, cap = run(shell, "%%chat -m fake\nhi")
    assert time.monotonic() - started < 10  # not the 30 s wait
    assert result.error_in_exec is None and "interrupted" in cap.stderr
    assert "Traceback" not in cap.stderr
    assert api.default_session().thread().messages == []  # nothing had arrived


def test_a_server_that_never_lists_its_models_does_not_hold_the_cell(
    live: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    shell, srv = live
    monkeypatch.setattr(session_module, "MODELS_TIMEOUT", 0.3)
    srv.models_delay = 30
    result, cap = run(shell, "%%chat -m fake\nhi")
    assert result.error_in_exec is None and "Hello" in str(cap.outputs[-1].data)


def test_interrupt_while_the_model_list_loads(live: Any) -> None:
    shell, srv = live
    srv.models_delay = 30
    interrupt_when(lambda: srv.models_pending > 0)
    result, cap = run(shell, "%%chat -m fake\nhi")
    assert result.error_in_exec is None and "interrupted" in cap.stderr
    assert "Traceback" not in cap.stderr


def test_retry_notices_go_once_the_reply_arrives(live: Any) -> None:
    shell, srv = live
    srv.enqueue(
        Reply(status=429, body=b'{"error": {"message": "slow down"}}',
              headers={"retry-after": "0.1"}),
        text_reply(["recovered"]),
    )  # fmt: skip
    _, cap = run(shell, "%%chat -m fake\nhi")
    notices = [o for o in cap.outputs if "retrying" in o.data.get("text/plain", "")]
    assert notices  # it was shown while waiting
    updates = [o for o in cap.outputs if o.data == {"text/plain": ""}]
    assert updates, "the notice was not cleared"


# -- the whole grammar ---------------------------------------------------------------------
WORDS = st.sampled_from(
    ["new", "thread", "threads", "system", "undo", "history", "set", "settings", "models",
     "help", "tools", "tool", "tool-result", "compare", "-t", "--temperature", "0.5", "-m",
     "x", "'", '"', "=", "temperature=2", "seed=1..3", "--stop", "?", "{", "}", "--",
     "--max-tokens", "-q", "--new", "a b", "tools=a,b", "--help", "\\", "n=2"]
)  # fmt: skip


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(words=st.lists(WORDS, max_size=6), cell=st.booleans(), body=st.sampled_from(["", "hi"]))
def test_any_line_gives_a_reply_or_one_line(
    ip: InteractiveShell, server: Server, words: list[str], cell: bool, body: str
) -> None:
    line = " ".join(words)
    source = f"%%chat {line}\n{body}" if cell else f"%chat {line}"
    before = list(api.default_session().thread().messages)
    result, cap = run(ip, source)
    error = result.error_in_exec or result.error_before_exec
    assert "Traceback" not in cap.stdout + cap.stderr, (source, cap.stderr)
    if error is not None:
        assert isinstance(error, UsageError), (source, repr(error))
        assert "\n" not in str(error).strip(), (source, str(error))
    messages = api.default_session().thread().messages
    if not {"new", "--new", "undo", "thread"} & set(words):
        assert messages[: len(before)] == before  # history only grows
    roles = [m.role for m in messages]
    assert all(r in ("user", "assistant", "tool") for r in roles)
