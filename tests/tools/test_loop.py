"""The tool loop of the turn engine, with the real client on MockTransport streams."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nscale_jupyter import BadRequestError, ChatRequest, ChatResult, Message
from nscale_jupyter._session import Session
from nscale_jupyter._tools import ToolOutcome, ToolRegistry
from nscale_jupyter._turn import TurnSpec
from nscale_jupyter._turn_events import ToolFinished
from tests.core.streams import Recorder, choice, chunk, role, sse, stream_response, text_chunks


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


def calls_stream(
    *calls: tuple[str, str, str],
    cuts: Sequence[Sequence[int]] | None = None,
    content: str = "",
    finish: str = "tool_calls",
) -> bytes:
    """A stream of tool calls: each call's name first, then its arguments cut at ``cuts[i]``
    (default: in three); with several calls the fragments are interleaved."""
    chunks = [chunk(role())]
    if content:
        chunks.append(chunk(choice(content=content)))
    pieces: list[list[str]] = []
    for i, (call_id, name, arguments) in enumerate(calls):
        head = {"id": call_id, "type": "function", "index": i, "function": {"name": name}}
        chunks.append(chunk(choice(tool_calls=[head])))
        at = cuts[i] if cuts else range(0, len(arguments), max(1, len(arguments) // 3))
        bounds = sorted({0, *at, len(arguments)})
        pieces.append([arguments[a:b] for a, b in itertools.pairwise(bounds)])
    for step in range(max(map(len, pieces), default=0)):
        for i, frags in enumerate(pieces):
            if step < len(frags):
                delta = {"index": i, "function": {"arguments": frags[step]}}
                chunks.append(chunk(choice(tool_calls=[delta])))
    chunks.append(chunk(choice(finish_reason=finish)))
    return sse(chunks)


def answer(text: str) -> httpx.Response:
    return stream_response(sse(text_chunks([text])))


@dataclass(frozen=True)
class Out:
    """What a turn with tools gave (the turn's messages after the prompt)."""

    final: ChatResult
    rounds: tuple[ChatResult, ...]
    messages: tuple[Message, ...]
    outcomes: tuple[ToolOutcome, ...]
    limit_reached: bool
    pending: tuple[Any, ...]


def run(
    recorder: Recorder,
    request: ChatRequest,
    reg: ToolRegistry,
    *,
    on_outcome: Any = None,
    max_rounds: int | None = None,
    run_tools: bool | None = None,
) -> Out:
    """One turn of the turn engine asking ``request``'s question with its tools."""

    def handler(r: httpx.Request) -> httpx.Response:
        if r.url.path.endswith("/models"):
            return httpx.Response(200, json={"data": [{"id": "m"}]})
        return recorder(r)

    session = Session(transport=httpx.MockTransport(handler))
    session.settings.base_url = "https://api.test/v1"
    session.tools = reg
    options = {"model": request.model, "tool_choice": request.tool_choice}
    spec = TurnSpec(
        request.messages,
        options=options,
        tools=list(request.tools or ()),
        max_tool_rounds=max_rounds,
        run_tools=run_tools,
    )
    try:
        turn = session.turn(spec)
        for event in turn:
            if on_outcome is not None and isinstance(event, ToolFinished):
                on_outcome(event.outcome)
    finally:
        session.close()
    outcome = turn.outcome
    assert outcome is not None
    if outcome.error is not None:
        raise outcome.error
    assert outcome.result is not None
    return Out(
        outcome.result,
        outcome.rounds,
        outcome.added[len(request.messages) :],
        outcome.outcomes,
        outcome.limit_reached,
        outcome.pending,
    )


def ask(reg: ToolRegistry, *names: str, **kw: Any) -> ChatRequest:
    return ChatRequest(
        model="m", messages=(Message.user("weather?"),), tools=reg.schemas(names), **kw
    )


def test_parallel_calls_then_an_answer_in_exact_wire_shapes() -> None:
    reg = registry()
    rec = Recorder(
        stream_response(
            calls_stream(
                ("t1", "get_weather", '{"city": "Paris"}'),
                ("t2", "get_time", '{"city": "Paris"}'),
                content="Let me check.",
            )
        ),
        answer("It is 18 °C at noon."),
    )
    out = run(rec, ask(reg, "get_weather", "get_time"), reg)
    assert out.final.text == "It is 18 °C at noon." and not out.limit_reached
    assert out.pending == () and [o.call.id for o in out.outcomes] == ["t1", "t2"]
    second = rec.bodies[1]["messages"]
    assert second[0] == {"role": "user", "content": "weather?"}
    assert second[1] == {
        "role": "assistant",
        "content": "Let me check.",
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
    assert second[2:] == [
        {"role": "tool", "tool_call_id": "t1", "content": '{"city": "Paris", "temp_c": 18}'},
        {"role": "tool", "tool_call_id": "t2", "content": "12:00"},
    ]
    assert [m.to_json() for m in out.messages] == [
        *second[1:],
        {"role": "assistant", "content": "It is 18 °C at noon."},
    ]
    assert rec.bodies[1]["tools"] == rec.bodies[0]["tools"]


def test_the_calls_of_a_round_run_concurrently_and_report_as_they_finish() -> None:
    reg = ToolRegistry()
    first_done = asyncio.Event()
    heard: list[str] = []

    async def quick() -> str:
        return "quick"

    async def waits() -> str:
        # Ends only once `quick` was reported: so both ran at once and the
        # report did not wait for the whole round.
        await asyncio.wait_for(first_done.wait(), 10)
        return "waited"

    def on_outcome(outcome: ToolOutcome) -> None:
        heard.append(outcome.content)
        first_done.set()

    reg.register(quick)
    reg.register(waits)
    rec = Recorder(
        stream_response(calls_stream(("a", "waits", "{}"), ("b", "quick", "{}"))), answer("ok")
    )
    out = run(rec, ask(reg, "quick", "waits"), reg, on_outcome=on_outcome)
    assert heard == ["quick", "waited"]
    assert [o.content for o in out.outcomes] == ["waited", "quick"]  # in call order
    assert [m["tool_call_id"] for m in rec.bodies[1]["messages"][2:]] == ["a", "b"]


def test_a_raising_tool_is_reported_to_the_model_and_the_loop_goes_on() -> None:
    reg = registry()
    rec = Recorder(
        stream_response(calls_stream(("t1", "explode", '{"x": 1}'))),
        stream_response(calls_stream(("t2", "nope", "{}"))),
        answer("Sorry, that failed."),
    )
    seen: list[ToolOutcome] = []
    out = run(rec, ask(reg, "explode"), reg, on_outcome=seen.append)
    assert rec.bodies[1]["messages"][-1] == {
        "role": "tool",
        "tool_call_id": "t1",
        "content": "Error: ValueError: bad x 1",
    }
    assert (
        "available tools: explode, get_time, get_weather"
        in rec.bodies[2]["messages"][-1]["content"]
    )
    assert [o.ok for o in seen] == [False, False] and out.final.text == "Sorry, that failed."


def test_round_limit_is_reported() -> None:
    reg = registry()
    rec = Recorder(
        *[stream_response(calls_stream((f"t{i}", "get_time", '{"city": "x"}'))) for i in range(2)]
    )
    out = run(rec, ask(reg, "get_time"), reg, max_rounds=2)
    assert out.limit_reached and len(out.rounds) == 2 and len(rec.requests) == 2
    assert out.final is out.rounds[-1] and out.final.tool_calls[0].id == "t1"
    assert [m.role for m in out.messages] == ["assistant", "tool", "assistant", "tool"]


def test_no_run_tools_leaves_calls_pending_for_a_person() -> None:
    reg = registry()
    rec = Recorder(stream_response(calls_stream(("t9", "get_weather", '{"city": "Rome"}'))))
    out = run(rec, ask(reg, "get_weather"), reg, run_tools=False)
    assert [c.id for c in out.pending] == ["t9"] and out.outcomes == ()
    assert [m.role for m in out.messages] == ["assistant"] and len(rec.requests) == 1


def test_a_call_to_a_schema_only_tool_waits_for_a_person() -> None:
    reg = registry()
    raw = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}
    rec = Recorder(stream_response(calls_stream(("t1", "lookup", "{}"))))
    request = ask(reg, "get_weather").replace(tools=(*reg.schemas(["get_weather"]), raw))
    out = run(rec, request, reg)
    assert [c.name for c in out.pending] == ["lookup"] and out.outcomes == ()


@pytest.mark.parametrize(
    "forced", ["required", {"type": "function", "function": {"name": "get_time"}}]
)
def test_a_forced_tool_choice_holds_for_the_first_round_only(forced: Any) -> None:
    reg = registry()
    rec = Recorder(
        stream_response(calls_stream(("t1", "get_time", '{"city": "x"}'), finish="stop")),
        answer("noon"),
    )
    out = run(rec, ask(reg, "get_time", tool_choice=forced), reg)
    assert rec.bodies[0]["tool_choice"] == forced and rec.bodies[1]["tool_choice"] == "auto"
    assert out.final.text == "noon"


def test_a_rejected_tool_choice_reaches_the_caller_with_the_server_message() -> None:
    reg = registry()
    message = "The tool specified in `tool_choice` does not match any of the specified `tools`"
    body = {"object": "error", "message": message, "type": "BadRequestError", "code": 400}
    rec = Recorder(httpx.Response(400, json=body))
    named = {"type": "function", "function": {"name": "nope"}}
    with pytest.raises(BadRequestError, match="does not match any of the specified"):
        run(rec, ask(reg, "get_time", tool_choice=named), reg)


ARGS = ('{"city": "São Paulo ☀", "note": "a\\"b"}', '{"city": "Oslo"}')


@settings(max_examples=60, deadline=None)
@given(
    cuts=st.tuples(
        st.lists(st.integers(0, len(ARGS[0])), max_size=12),
        st.lists(st.integers(0, len(ARGS[1])), max_size=12),
    )
)
def test_argument_fragments_split_anywhere(cuts: tuple[list[int], list[int]]) -> None:
    reg = ToolRegistry()

    def get_weather(city: str, note: str = "") -> str:
        return city + note

    reg.register(get_weather)
    rec = Recorder(
        stream_response(
            calls_stream(("t1", "get_weather", ARGS[0]), ("t2", "get_weather", ARGS[1]), cuts=cuts)
        ),
        answer("ok"),
    )
    out = run(rec, ask(reg, "get_weather"), reg)
    assert [o.content for o in out.outcomes] == ['São Paulo ☀a"b', "Oslo"]
    sent = rec.bodies[1]["messages"][1]["tool_calls"]
    assert [c["function"]["arguments"] for c in sent] == list(ARGS)


def test_an_unset_round_limit_uses_the_setting() -> None:
    reg = registry()
    rec = Recorder(answer("hi"))
    out = run(rec, ask(reg, "get_time"), reg, max_rounds=None)
    assert out.final.text == "hi" and not out.limit_reached and len(out.rounds) == 1
