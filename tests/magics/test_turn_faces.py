"""The faces disagree no more: each problem of the turn-engine issue, as a user meets it.

A real IPython shell with the extension loaded, the client on MockTransport
(``tests/magics/conftest.py``); cells are rendered as in a notebook where
the display matters.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import nscale_jupyter._api as api
from nscale_jupyter import chat
from nscale_jupyter._magics import ChatMagics
from tests.core.streams import choice, chunk, role, sse, stream_response

from .conftest import Server

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def calls(*ids: str, name: str = "get_weather") -> Any:
    head = [
        {"id": i, "type": "function", "index": k, "function": {"name": name, "arguments": "{}"}}
        for k, i in enumerate(ids)
    ]
    return lambda r: stream_response(
        sse(
            [
                chunk(role()),
                chunk(choice(tool_calls=head)),
                chunk(choice(finish_reason="tool_calls")),
            ]
        )
    )


def whole(message: dict[str, Any], logprobs: Any = None) -> Any:
    """A non-streamed response."""
    body = {
        "id": "x",
        "object": "chat.completion",
        "model": "only-model",
        "choices": [
            {"index": 0, "message": {"role": "assistant", **message}, "logprobs": logprobs,
             "finish_reason": "tool_calls" if "tool_calls" in message else "stop"}
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }  # fmt: skip
    return lambda r: httpx.Response(200, json=body)


@pytest.fixture
def notebook(monkeypatch: pytest.MonkeyPatch) -> None:
    """Render cells as a notebook does (Markdown display updates), not as a terminal."""
    monkeypatch.setattr(ChatMagics, "_terminal", lambda self: False)


def run_cell(ip: InteractiveShell, line: str, body: str) -> Any:
    with capture_output() as cap:
        ip.run_cell_magic("chat", line, body)
    return cap


def markup(cap: Any) -> str:
    return "".join(o.data.get(k, "") for o in cap.outputs for k in ("text/markdown", "text/html"))


# 1 ------------------------------------------------------------------------------------
def test_no_stream_with_logprobs_shows_the_heatmap(
    ip: InteractiveShell, server: Server, notebook: None
) -> None:
    alternatives = [{"token": "Hi", "logprob": -0.2}, {"token": "Yo", "logprob": -1.9}]
    entry = {"token": "Hi", "logprob": -0.2, "bytes": [72, 105], "top_logprobs": alternatives}
    server.script(whole({"content": "Hi"}, logprobs={"content": [entry]}))
    cap = run_cell(ip, "--no-stream --logprobs --top-logprobs 3", "hello")
    assert "nscale-heatmap" in markup(cap) and "Yo" in markup(cap)


def test_a_no_stream_reply_that_only_calls_a_tool_shows_its_card(
    ip: InteractiveShell, server: Server, notebook: None
) -> None:
    ip.user_ns["weather"] = [WEATHER]
    call = {"id": "c1", "type": "function", "function": {"name": "get_weather",
            "arguments": '{"city": "Oslo"}'}}  # fmt: skip
    server.script(whole({"content": None, "tool_calls": [call]}))
    cap = run_cell(ip, "--no-stream --tools weather", "weather?")
    shown = markup(cap)
    assert "nscale-toolcard" in shown and "get_weather" in shown and "Oslo" in shown


def test_the_footer_of_a_whole_reply_gives_its_wait_not_a_first_token(
    ip: InteractiveShell, server: Server, notebook: None
) -> None:
    server.script(whole({"content": "Hi"}))
    shown = markup(run_cell(ip, "--no-stream", "hello"))
    footer = shown[shown.index("<sub") :]
    assert "first token" not in footer and "2 completion tokens" in footer
    assert re.search(r"· \d+\.\d\d s", footer)


# 2 ------------------------------------------------------------------------------------
def test_a_panel_system_prompt_is_sent_by_the_next_cell(
    ip: InteractiveShell, server: Server
) -> None:
    import asyncio

    run_cell(ip, "", "first, a cell")  # the thread exists before the panel's prompt
    with capture_output():
        ip.run_line_magic("chat", "panel")
    panel = ip.find_line_magic("chat").__self__.last_panel
    panel.system.value = "Answer in French."
    panel.prompt.value = "hi"
    asyncio.run(panel.run())
    run_cell(ip, "", "And in a cell?")
    assert server.last["messages"][0] == {"role": "system", "content": "Answer in French."}


# 3 ------------------------------------------------------------------------------------
def test_an_answer_by_hand_lands_in_the_thread_the_call_came_from(
    ip: InteractiveShell, server: Server
) -> None:
    ip.user_ns["weather"] = [WEATHER]
    server.script(calls("c7"))
    run_cell(ip, "--no-run-tools --thread X --tools weather", "weather in Oslo?")
    ip.run_line_magic("chat", "thread Y")
    with capture_output():
        ip.run_line_magic("chat", "tool-result c7 cold")
    session = api.default_session()
    assert [m.role for m in session.thread("X").messages] == [
        "user",
        "assistant",
        "tool",
        "assistant",
    ]
    assert session.thread("X").messages[2].content == "cold"
    assert session.thread("Y").messages == [] and session.thread("X").pending == ()
    sent = server.last["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool"]
    assert sent[0]["content"] == "weather in Oslo?"


# 4 ------------------------------------------------------------------------------------
def test_a_tool_dict_call_waits_for_an_answer_and_a_new_turn_stays_valid(
    ip: InteractiveShell, server: Server
) -> None:
    ip.user_ns["weather"] = [WEATHER]
    server.script(calls("c1"), calls("c2"))
    cap = run_cell(ip, "--tools weather", "weather?")
    assert "tool calls not run (c1)" in cap.stderr
    with capture_output() as answered:
        ip.run_line_magic("chat", "tool-result c1 sunny")
    assert "still waiting" not in answered.stdout
    assert server.last["messages"][-1] == {
        "role": "tool",
        "tool_call_id": "c1",
        "content": "sunny",
    }
    # c2 is left unanswered; the next user turn closes it instead of breaking the thread.
    cap = run_cell(ip, "", "never mind")
    sent = server.last["messages"]
    assert [m["role"] for m in sent[-3:]] == ["assistant", "tool", "user"]
    assert sent[-2]["tool_call_id"] == "c2" and "no answer" in sent[-2]["content"]
    assert "unanswered tool call" in cap.stderr


# 5 ------------------------------------------------------------------------------------
def test_opening_the_panel_changes_no_setting_and_reset_keeps_cells_working(
    ip: InteractiveShell, server: Server
) -> None:
    settings = api.default_session().settings
    ip.run_line_magic("chat", "set model=my-unlisted-model")
    with capture_output():
        ip.run_line_magic("chat", "panel")
    panel = ip.find_line_magic("chat").__self__.last_panel
    assert settings.model == "my-unlisted-model" and panel.model.value == "my-unlisted-model"
    assert ("my-unlisted-model (not listed)", "my-unlisted-model") in panel.model.options
    panel.reset.click()
    assert settings.model is None and panel.model.value == ""  # the dropdown says so too
    run_cell(ip, "", "still works?")
    assert server.last["model"] == "only-model"


# 6 ------------------------------------------------------------------------------------
def test_chat_takes_tool_dicts_names_and_functions(ip: InteractiveShell, server: Server) -> None:
    from nscale_jupyter._tools import default_registry

    session = api.default_session()
    chat("a", tools=[WEATHER], session=session)
    assert server.last["tools"] == [WEATHER]

    def get_time() -> str:
        """The time here."""
        return "noon"

    default_registry().register(get_time)
    try:
        chat("b", tools=["get_time"], session=session)
        assert [t["function"]["name"] for t in server.last["tools"]] == ["get_time"]
        server.script(calls("t1", name="get_time"))
        result = chat("c", tools=[get_time], session=session)
        assert result.text == "Hello!"  # the function ran and the model answered
        assert server.last["messages"][-1] == {"role": "tool", "tool_call_id": "t1",
                                               "content": "noon"}  # fmt: skip
    finally:
        default_registry()._tools.pop("get_time", None)


# 8 ------------------------------------------------------------------------------------
def test_new_keeps_the_threads_system_prompt(ip: InteractiveShell, server: Server) -> None:
    ip.run_line_magic("chat", 'system "Be terse."')
    run_cell(ip, "", "one")
    with capture_output():
        ip.run_line_magic("chat", "new")
    run_cell(ip, "", "two")
    assert server.last["messages"] == [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "two"},
    ]


def test_max_tokens_set_to_none_is_still_sent(ip: InteractiveShell, server: Server) -> None:
    ip.run_line_magic("chat", "set max_tokens=none")
    run_cell(ip, "", "hi")
    assert server.last["max_tokens"] == 1024
    ip.run_line_magic("config", "ChatSettings.max_tokens = None")
    run_cell(ip, "", "hi")
    assert server.last["max_tokens"] == 1024
    run_cell(ip, "--max-completion-tokens 5", "hi")
    assert "max_tokens" not in server.last and server.last["max_completion_tokens"] == 5
    assert json.dumps(server.last)  # the body is JSON
