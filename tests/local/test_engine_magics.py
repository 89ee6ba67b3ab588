"""%%chat in a real IPython shell against the real engine."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import nscale_jupyter._api as api
from nscale_jupyter._session import Session
from tests.local.conftest import engine_shell
from tests.magics.conftest import ipython_shell

pytestmark = pytest.mark.engine


@pytest.fixture
def ip(engine: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    yield from engine_shell(engine.base_url, monkeypatch)


def run(ip: InteractiveShell, line: str, body: str) -> Any:
    with capture_output() as cap:
        ip.run_cell_magic("chat", line, body)
    return cap, ip.user_ns.get("_")


def test_plain_reply_streams(ip: InteractiveShell) -> None:
    cap, result = run(ip, "-t 0 --max-tokens 30", "Hello!")
    assert result.text.strip() and result.text in cap.stdout
    assert result.model == "tiny-chat" and "tiny-chat · stop" in cap.stdout


def test_multi_turn_sends_history(ip: InteractiveShell) -> None:
    run(ip, "-t 0 --max-tokens 20", "Hello!")
    _, second = run(ip, "-t 0 --max-tokens 20", "Count to five.")
    assert [m.role for m in second.messages] == ["user", "assistant", "user"]


def test_tool_call_and_reasoning(ip: InteractiveShell) -> None:
    ip.user_ns["weather"] = [{"type": "function", "function": {
        "name": "get_weather", "description": "Get the current weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                       "required": ["city"]}}}]  # fmt: skip
    cap, result = run(ip, "-t 0 --tools weather --new", "What is the weather in Paris?")
    assert result.tool_calls[0].name == "get_weather"
    assert isinstance(result.tool_calls[0].args["city"], str)
    assert "get_weather(" in cap.stdout
    _, thought = run(
        ip,
        "-t 0 --new --max-tokens 60 --chat-template-kwargs '{\"enable_thinking\": true}'",
        "Hello!",
    )
    assert thought.reasoning


def test_unknown_model_is_one_clear_line(ip: InteractiveShell) -> None:
    cap, _ = run(ip, "-m nope", "Hello!")
    assert "404" in cap.stderr and "does not exist" in cap.stderr
    assert "Traceback" not in cap.stderr


def test_prompt_over_the_context_is_one_clear_line(ip: InteractiveShell) -> None:
    ip.user_ns["long"] = "hello " * 2000
    cap, _ = run(ip, "", "{long}")
    assert "400" in cap.stderr and "Traceback" not in cap.stderr


def test_chat_local_points_the_session_at_the_engine(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `start` itself is tested in test_engine_process; here the subcommand's wiring,
    # reusing this session's engine rather than starting a third one.
    import nscale_jupyter.local as local
    from nscale_jupyter import _subcommands

    stopped: list[bool] = []

    class Shared:
        base_url, model, running = engine.base_url, engine.model, True

        def stop(self) -> None:
            stopped.append(True)

    monkeypatch.setattr(local, "start", lambda *a, **k: Shared())
    monkeypatch.delenv("NSCALE_BASE_URL", raising=False)
    shell = ipython_shell()
    api.set_default_session(Session())
    shell.run_line_magic("load_ext", "nscale_jupyter")
    try:
        with capture_output() as cap:
            shell.run_line_magic("chat", "local")
            shell.run_cell_magic("chat", "-t 0 --max-tokens 10", "Hello!")
        assert f"using the local engine at {engine.base_url}" in cap.stdout
        assert shell.user_ns["_"].model == "tiny-chat"
        with capture_output():
            shell.run_line_magic("chat", "local --stop")
        assert stopped and api.default_session().settings.base_url is None
        assert not _subcommands._engines
    finally:
        shell.run_line_magic("unload_ext", "nscale_jupyter")
