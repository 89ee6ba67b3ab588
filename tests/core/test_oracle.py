"""The openai Python SDK as an independent oracle: it parses the same recorded
streams (fed through httpx2.MockTransport) and must agree with our result."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest

from .helpers import run_stream
from .streams import USAGE, choice, chunk, role, sse, text_chunks

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "streams"


def _cases() -> dict[str, bytes]:
    call0 = {
        "id": "chatcmpl-tool-ab12",
        "type": "function",
        "index": 0,
        "function": {"name": "get_weather"},
    }
    call1 = {
        "id": "chatcmpl-tool-cd34",
        "type": "function",
        "index": 1,
        "function": {"name": "get_time"},
    }
    cases = {
        "text": sse(text_chunks(["Hel", "lo ", "wörld 😀"])),
        "crlf": sse(text_chunks(["a\u2028b", "c"]), newline=b"\r\n"),
        "length": sse(text_chunks(["Once upon a"], finish="length")),
        "stop_string": sse(
            [
                chunk(role()),
                chunk(choice(content="1, 2")),
                chunk(choice(finish_reason="stop", stop_reason=", 3")),
                chunk(usage=USAGE),
            ]
        ),
        "tools": sse(
            [
                chunk(role()),
                chunk(choice(tool_calls=[call0])),
                chunk(choice(tool_calls=[{"index": 0, "function": {"arguments": '{"city": "'}}])),
                chunk(choice(tool_calls=[{"index": 0, "function": {"arguments": 'Paris"}'}}])),
                chunk(choice(tool_calls=[call1])),
                chunk(
                    choice(
                        tool_calls=[{"index": 1, "function": {"arguments": "{}"}}],
                        finish_reason="tool_calls",
                    )
                ),
                chunk(usage=USAGE),
            ]
        ),
        "n3": sse(
            [
                chunk(role(0)),
                chunk(role(1)),
                chunk(role(2)),
                chunk(choice(2, content="c")),
                chunk(choice(0, content="a")),
                chunk(choice(1, content="b", finish_reason="stop")),
                chunk(choice(0, finish_reason="length")),
                chunk(choice(2, finish_reason="stop")),
                chunk(usage=USAGE),
            ]
        ),
    }
    for path in sorted(FIXTURES.glob("*.sse")):  # real engine recordings
        cases[f"engine:{path.stem}"] = path.read_bytes()
    return cases


CASES = _cases()


def openai_result(body: bytes) -> dict[str, Any]:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    client = openai.OpenAI(
        api_key="sk-test",
        base_url="https://api.test/v1",
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
    )
    text: dict[int, str] = {}
    finish: dict[int, str | None] = {}
    calls: dict[int, dict[int, dict[str, str]]] = {}
    usage = None
    stream = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "x"}], stream=True
    )
    for c in stream:
        if c.usage is not None:
            usage = (c.usage.prompt_tokens, c.usage.completion_tokens, c.usage.total_tokens)
        for ch in c.choices:
            text[ch.index] = text.get(ch.index, "") + (ch.delta.content or "")
            if ch.finish_reason is not None:
                finish[ch.index] = ch.finish_reason
            for tc in ch.delta.tool_calls or ():
                slot = calls.setdefault(ch.index, {}).setdefault(
                    tc.index, {"id": "", "name": "", "arguments": ""}
                )
                if tc.id:
                    slot["id"] = tc.id
                if tc.function and tc.function.name:
                    slot["name"] = tc.function.name
                if tc.function and tc.function.arguments:
                    slot["arguments"] += tc.function.arguments
    return {"text": text, "finish": finish, "calls": calls, "usage": usage}


@pytest.mark.parametrize("name", sorted(CASES))
def test_openai_sdk_agrees(name: str) -> None:
    body = CASES[name]
    ours, _ = run_stream(body)
    theirs = openai_result(body)
    assert {c.index: c.text for c in ours.choices} == {i: t for i, t in theirs["text"].items()}
    assert {c.index: c.finish_reason for c in ours.choices if c.finish_reason} == theirs["finish"]
    ours_calls = {
        c.index: {
            t.index: {"id": t.id, "name": t.name, "arguments": t.arguments} for t in c.tool_calls
        }
        for c in ours.choices
        if c.tool_calls
    }
    assert ours_calls == theirs["calls"]
    for calls in ours_calls.values():  # arguments that parse for one parse for the other
        for call in calls.values():
            if call["arguments"]:
                json.loads(call["arguments"])
    usage = ours.usage
    assert (
        None
        if usage is None
        else (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)
    ) == theirs["usage"]
