"""The client against the real engine: vLLM 0.32 on CPU serving the tiny model."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from nscale_jupyter import (
    AsyncClient,
    BadRequestError,
    ChatRequest,
    ChatResult,
    Client,
    ContentDelta,
    Message,
    NotFoundError,
    ReasoningDelta,
    StreamEvent,
    ToolCall,
    ToolCallDelta,
    UsageUpdate,
)

pytestmark = pytest.mark.engine

WEATHER: dict[str, Any] = {"type": "function", "function": {
    "name": "get_weather", "description": "Get the current weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string",
                   "description": "The city name."}}, "required": ["city"]}}}  # fmt: skip
TIME: dict[str, Any] = {"type": "function", "function": {
    "name": "get_time", "description": "Get the local time in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string",
                   "description": "The city name."}}, "required": ["city"]}}}  # fmt: skip


@pytest.fixture(scope="module")
def client(engine: Any) -> Iterator[Client]:
    with Client(base_url=engine.base_url) as c:
        yield c


def ask(engine: Any, text: str, **fields: Any) -> ChatRequest:
    fields.setdefault("max_tokens", 60)
    fields.setdefault("temperature", 0.0)
    return ChatRequest(model=engine.model, messages=(Message.user(text),), **fields)


def stream_all(engine: Any, request: ChatRequest) -> tuple[ChatResult, list[StreamEvent]]:
    async def go() -> tuple[ChatResult, list[StreamEvent]]:
        async with AsyncClient(base_url=engine.base_url) as c:
            async with c.stream(request) as s:
                events = [e async for e in s]
            return s.result, events

    return asyncio.run(go())


def test_models_lists_the_tiny_model(client: Client, engine: Any) -> None:
    assert [m.id for m in client.models()] == [engine.model]


def test_plain_reply(client: Client, engine: Any) -> None:
    result = client.chat(ask(engine, "Hello!"))
    assert result.text.strip()
    assert result.finish_reason == "stop"
    assert result.usage is not None and result.usage.completion_tokens
    assert result.reasoning is None  # thinking is off by default


def test_count_to_five(client: Client, engine: Any) -> None:
    text = client.chat(ask(engine, "Count to five.")).text
    assert all(d in text for d in "12345"), text


def test_streaming_with_usage_chunk(engine: Any) -> None:
    result, events = stream_all(engine, ask(engine, "Tell me a story.", include_usage=True))
    deltas = [e.text for e in events if isinstance(e, ContentDelta)]
    assert len(deltas) > 5 and "".join(deltas) == result.text
    assert [e for e in events if isinstance(e, UsageUpdate)]
    assert result.usage is not None and result.usage.completion_tokens
    assert result.timing.time_to_first_token is not None
    assert not result.truncated


def test_max_tokens_gives_length(client: Client, engine: Any) -> None:
    result = client.chat(ask(engine, "Tell me a story.", max_tokens=20))
    assert result.finish_reason == "length"
    assert result.usage is not None and result.usage.completion_tokens == 20


def test_n_two(client: Client, engine: Any) -> None:
    result = client.chat(ask(engine, "Tell me a story.", n=2, temperature=1.0, max_tokens=20))
    assert [c.index for c in result.choices] == [0, 1]
    assert all(c.text for c in result.choices)


def test_seed_gives_the_same_text_at_temperature_one(client: Client, engine: Any) -> None:
    request = ask(engine, "Tell me a story.", temperature=1.0, seed=42, max_tokens=30)
    first, second = client.chat(request), client.chat(request)
    assert first.text == second.text
    streamed, _ = stream_all(engine, request)
    assert streamed.text == first.text


def test_stop_string(client: Client, engine: Any) -> None:
    result = client.chat(ask(engine, "Count to five.", stop=["3"]))
    assert result.finish_reason == "stop" and result.stop_reason == "3"
    assert "3" not in result.text and "2" in result.text


def test_logprobs_bytes_rebuild_the_text(client: Client, engine: Any) -> None:
    result = client.chat(
        ask(engine, "Tell me a story.", logprobs=True, top_logprobs=5, max_tokens=30)
    )
    tokens = result.logprobs or ()
    assert len(tokens) == 30
    assert all(len(t.top_logprobs) == 5 for t in tokens)
    rebuilt = b"".join(bytes(t.bytes or b"") for t in tokens).decode("utf-8", "replace")
    assert rebuilt == result.text


def test_logit_bias_bans_a_token(client: Client, engine: Any) -> None:
    request = ask(
        engine,
        "Count to five.",
        logprobs=True,
        max_tokens=5,
        extra={"return_tokens_as_token_ids": True},
    )
    first = client.chat(request).logprobs or ()
    token_id = first[0].token.removeprefix("token_id:")
    banned = client.chat(request.replace(logit_bias={token_id: -100}))
    assert (banned.logprobs or ())[0].token != first[0].token


def test_response_format_json_object(client: Client, engine: Any) -> None:
    result = client.chat(
        ask(engine, "Reply in JSON.", response_format={"type": "json_object"}, max_tokens=40)
    )
    assert isinstance(json.loads(result.text), dict)


def test_reasoning_split_from_content(client: Client, engine: Any) -> None:
    result = client.chat(
        ask(
            engine,
            "Hello!",
            extra={"chat_template_kwargs": {"enable_thinking": True}},
            max_tokens=80,
        )
    )
    assert result.reasoning and result.reasoning.strip()
    assert "<think>" not in (result.text or "")


def test_tool_call_auto_streamed_in_pieces(engine: Any) -> None:
    request = ask(
        engine, "What is the weather in Paris?", tools=(WEATHER, TIME), tool_choice="auto"
    )
    result, events = stream_all(engine, request)
    (call,) = result.tool_calls
    assert call.name == "get_weather"
    assert isinstance((call.args or {}).get("city"), str)
    assert call.id and call.id.startswith("chatcmpl-tool-")
    assert result.finish_reason == "tool_calls"
    assert len([e for e in events if isinstance(e, ToolCallDelta)]) >= 2


def test_tool_call_auto_with_one_tool(client: Client, engine: Any) -> None:
    result = client.chat(
        ask(engine, "What's the weather like in Oslo?", tools=(WEATHER,), tool_choice="auto")
    )
    (call,) = result.tool_calls
    assert call.name == "get_weather"
    assert isinstance((call.args or {}).get("city"), str)
    assert result.finish_reason == "tool_calls"


def test_answers_from_a_tool_result(client: Client, engine: Any) -> None:
    call = ToolCall("chatcmpl-tool-0123456789abcdef", "get_weather", '{"city": "Paris"}')
    result = client.chat(
        ChatRequest(
            model=engine.model,
            messages=(
                Message.user("What is the weather in Paris?"),
                Message.assistant(None, [call]),
                Message.tool(
                    call.id or "", '{"city": "Paris", "temp_c": 18, "condition": "sunny"}'
                ),
            ),
            tools=(WEATHER,),
            max_tokens=60,
            temperature=0.0,
        )
    )
    assert result.tool_calls == ()
    assert result.finish_reason == "stop"
    assert result.text.strip()


def test_thinking_streams_reasoning_then_answer(engine: Any) -> None:
    request = ask(
        engine, "Count to five.", extra={"chat_template_kwargs": {"enable_thinking": True}}
    )
    result, events = stream_all(engine, request)
    kinds = [type(e) for e in events if isinstance(e, (ReasoningDelta, ContentDelta))]
    assert ReasoningDelta in kinds and ContentDelta in kinds
    assert kinds.index(ReasoningDelta) < kinds.index(ContentDelta)
    assert result.reasoning and result.text.strip()


def test_tool_choice_none(client: Client, engine: Any) -> None:
    result = client.chat(
        ask(engine, "What is the weather in Paris?", tools=(WEATHER,), tool_choice="none")
    )
    assert result.tool_calls == ()


def test_tool_choice_required_and_named(client: Client, engine: Any) -> None:
    strict = {"type": "function", "function": {**WEATHER["function"], "strict": True}}
    required = client.chat(ask(engine, "Hello!", tools=(strict,), tool_choice="required"))
    assert required.tool_calls and required.tool_calls[0].name == "get_weather"
    assert isinstance((required.tool_calls[0].args or {}).get("city"), str)
    named = client.chat(
        ask(
            engine,
            "Hello!",
            tools=(strict,),
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
        )
    )
    assert named.tool_calls and named.tool_calls[0].name == "get_weather"


def test_unknown_model_is_404(client: Client, engine: Any) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        client.chat(ask(engine, "hi").replace(model="no-such-model"))


@pytest.mark.parametrize("stream", [False, True])
def test_prompt_over_the_context_is_400(client: Client, engine: Any, stream: bool) -> None:
    with pytest.raises(BadRequestError) as info:
        client.chat(ask(engine, "hello " * 2000, stream=stream))
    assert info.value.status_code == 400
