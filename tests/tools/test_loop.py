"""Running tool calls and the call loop, with the real client on MockTransport streams."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from nscale_jupyter import AsyncClient, ChatRequest, Message, ToolCall, ToolCallDelta
from nscale_jupyter._tools import ToolRegistry, execute, run_tool_loop, tool_result_message
from nscale_jupyter.display._toolcard import ToolCardPart
from tests.core.streams import Recorder, choice, chunk, role, sse, stream_response, text_chunks
from tests.html import tags


def registry() -> ToolRegistry:
    reg = ToolRegistry()

    def get_weather(city: str) -> dict[str, Any]:
        """Weather in a city."""
        return {"city": city, "temp_c": 18}

    async def get_time(city: str) -> str:
        await asyncio.sleep(0)
        return "12:00"

    def explode(x: int) -> None:
        raise ValueError(f"bad x {x}")

    for fn in (get_weather, get_time, explode):
        reg.register(fn)
    return reg


def calls_stream(*calls: tuple[str, str, str], pieces: int = 3) -> bytes:
    """A stream of tool calls, arguments cut into ``pieces`` fragments each."""
    chunks = [chunk(role())]
    for i, (call_id, name, arguments) in enumerate(calls):
        chunks.append(
            chunk(
                choice(
                    tool_calls=[
                        {"id": call_id, "type": "function", "index": i, "function": {"name": name}}
                    ]
                )
            )
        )
        step = max(1, len(arguments) // pieces)
        for j in range(0, len(arguments), step):
            chunks.append(
                chunk(
                    choice(
                        tool_calls=[
                            {"index": i, "function": {"arguments": arguments[j : j + step]}}
                        ]
                    )
                )
            )
    chunks.append(chunk(choice(finish_reason="tool_calls")))
    return sse(chunks)


def run(recorder: Recorder, request: ChatRequest, reg: ToolRegistry, **kw: Any) -> Any:
    async def go() -> Any:
        async with AsyncClient(
            base_url="https://api.test/v1", transport=recorder.transport()
        ) as client:

            async def send(r: ChatRequest) -> Any:
                return await client.chat(r.replace(stream=True))

            return await run_tool_loop(send, request, reg, **kw)

    return asyncio.run(go())


def test_execute_sync_async_raising_and_bad_input() -> None:
    reg = registry()

    def ex(name: str, args: str) -> Any:
        return asyncio.run(execute(ToolCall("c1", name, args), reg))

    ok = ex("get_weather", '{"city": "Paris"}')
    assert ok.ok and json.loads(ok.content) == {"city": "Paris", "temp_c": 18}
    assert ex("get_time", '{"city": "Oslo"}').content == "12:00"
    boom = ex("explode", '{"x": 3}')
    assert not boom.ok and boom.content == "Error: ValueError: bad x 3"
    assert "available tools: explode, get_time, get_weather" in ex("nope", "{}").content
    assert "not a JSON object" in ex("get_weather", '{"city": ').content
    assert "missing city" in ex("get_weather", "{}").content
    assert "unknown town" in ex("get_weather", '{"city": "x", "town": "y"}').content
    assert ok.to_message() == Message.tool("c1", ok.content)


def test_parallel_calls_then_an_answer() -> None:
    reg = registry()
    rec = Recorder(
        stream_response(
            calls_stream(
                ("t1", "get_weather", '{"city": "Paris"}'), ("t2", "get_time", '{"city": "Paris"}')
            )
        ),
        stream_response(sse(text_chunks(["It is 18 °C at noon."]))),
    )
    request = ChatRequest(
        model="m",
        messages=(Message.user("weather?"),),
        tools=reg.schemas(["get_weather", "get_time"]),
    )
    out = run(rec, request, reg)
    assert out.final.text == "It is 18 °C at noon." and not out.limit_reached
    second = rec.bodies[1]["messages"]
    assert second[1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "t1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            },
            {
                "id": "t2",
                "type": "function",
                "function": {"name": "get_time", "arguments": '{"city": "Paris"}'},
            },
        ],
    }
    assert second[2] == {
        "role": "tool",
        "tool_call_id": "t1",
        "content": '{"city": "Paris", "temp_c": 18}',
    }
    assert second[3] == {"role": "tool", "tool_call_id": "t2", "content": "12:00"}
    assert [m.role for m in out.messages] == ["assistant", "tool", "tool", "assistant"]


def test_a_raising_tool_is_reported_to_the_model() -> None:
    reg = registry()
    rec = Recorder(
        stream_response(calls_stream(("t1", "explode", '{"x": 1}'))),
        stream_response(sse(text_chunks(["Sorry, that failed."]))),
    )
    seen: list[Any] = []
    out = run(
        rec,
        ChatRequest(model="m", messages=(Message.user("go"),), tools=reg.schemas(["explode"])),
        reg,
        on_outcome=seen.append,
    )
    assert rec.bodies[1]["messages"][-1] == {
        "role": "tool",
        "tool_call_id": "t1",
        "content": "Error: ValueError: bad x 1",
    }
    assert not seen[0].ok and out.final.text == "Sorry, that failed."


def test_round_limit_is_reported() -> None:
    reg = registry()
    rec = Recorder(
        *[stream_response(calls_stream(("t", "get_time", '{"city": "x"}'))) for _ in range(2)]
    )
    out = run(
        rec,
        ChatRequest(model="m", messages=(Message.user("go"),), tools=reg.schemas(["get_time"])),
        reg,
        max_rounds=2,
    )
    assert out.limit_reached and len(out.rounds) == 2 and len(rec.requests) == 2


def test_no_run_tools_leaves_calls_pending() -> None:
    reg = registry()
    rec = Recorder(stream_response(calls_stream(("t9", "get_weather", '{"city": "Rome"}'))))
    out = run(
        rec,
        ChatRequest(model="m", messages=(Message.user("go"),), tools=reg.schemas(["get_weather"])),
        reg,
        run_tools=False,
    )
    assert [c.id for c in out.pending] == ["t9"] and out.outcomes == ()
    assert tool_result_message("t9", "sunny", out.pending) == Message.tool("t9", "sunny")


@settings(max_examples=40, deadline=None)
@given(pieces=st.integers(1, 20))
def test_argument_fragments_split_anywhere(pieces: int) -> None:
    reg = registry()
    args = '{"city": "São Paulo ☀"}'
    rec = Recorder(
        stream_response(calls_stream(("t1", "get_weather", args), pieces=pieces)),
        stream_response(sse(text_chunks(["ok"]))),
    )
    out = run(
        rec,
        ChatRequest(model="m", messages=(Message.user("go"),), tools=reg.schemas(["get_weather"])),
        reg,
    )
    assert json.loads(out.outcomes[0].content)["city"] == "São Paulo ☀"


# -- tool cards ---------------------------------------------------------------------------------
def test_card_streams_then_pretty_prints_and_shows_result() -> None:
    card = ToolCardPart()
    assert card.render() == {}
    card.feed(ToolCallDelta(0, 0, "t1", "get_weather", ""))
    assert "get_weather" in card.render()["text/html"]  # shows as soon as the name arrives
    card.feed(ToolCallDelta(0, 0, None, None, '{"city":'))
    assert "{&quot;city&quot;:" in card.render()["text/html"]
    card.feed(ToolCallDelta(0, 0, None, None, '"Paris"}'))
    card.finish()
    card.set_status("t1", "done", '{"temp_c": 18}')
    html = card.render()["text/html"]
    assert "{\n  &quot;city&quot;: &quot;Paris&quot;\n}" in html
    assert "[done]" in html and "temp_c" in html and "t1" in html


def test_malformed_arguments_shown_with_a_warning() -> None:
    card = ToolCardPart()
    card.feed(ToolCallDelta(0, 0, "t", "f", '{"cut'))
    card.finish()
    assert "not valid JSON" in card.render()["text/html"]
    assert "{&quot;cut" in card.render()["text/html"]


def test_hostile_names_arguments_and_results_are_escaped() -> None:
    evil = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    card = ToolCardPart()
    card.feed(ToolCallDelta(0, 0, evil, evil, json.dumps({"x": evil})))
    card.finish()
    card.set_status(evil, "error", evil)
    parser = tags(card.render()["text/html"])
    assert "script" not in parser.tags and "img" not in parser.tags
    assert "onerror" not in parser.attrs
