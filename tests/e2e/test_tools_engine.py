"""The tool loop against the real engine: the tiny model calls get_weather, our Python
function runs, its result goes back, and the model's next turn arrives."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nscale_jupyter import AsyncClient, ChatRequest, ChatResult, Message
from nscale_jupyter._tools import ToolLoopResult, ToolRegistry, run_tool_loop

pytestmark = pytest.mark.engine


def weather_tools(strict: bool | None = None) -> tuple[ToolRegistry, list[str]]:
    registry, cities = ToolRegistry(), []

    def get_weather(city: str) -> dict[str, Any]:
        """Get the current weather in a city.

        Args:
            city: The city name.
        """
        cities.append(city)
        return {"city": city, "temp_c": 18, "condition": "sunny"}

    registry.register(get_weather, strict=strict)
    return registry, cities


def loop(
    engine: Any, registry: ToolRegistry, sent: list[ChatRequest], **request: Any
) -> ToolLoopResult:
    first = ChatRequest(
        model=engine.model,
        messages=(Message.user("What is the weather in Paris?"),),
        tools=registry.schemas(),
        temperature=0.0,
        max_tokens=60,
        **request,
    )

    async def go() -> ToolLoopResult:
        async with AsyncClient(base_url=engine.base_url) as client:

            async def send(r: ChatRequest) -> ChatResult:
                sent.append(r)
                return await client.chat(r.replace(stream=True))

            return await run_tool_loop(send, first, registry, max_rounds=3)

    return asyncio.run(go())


def check_round_trip(out: ToolLoopResult, cities: list[str], sent: list[ChatRequest]) -> None:
    """The call ran with a string city, its result went back, a next turn came."""
    first = out.rounds[0].tool_calls
    assert first and first[0].name == "get_weather" and first[0].id
    assert isinstance(first[0].args, dict) and isinstance(first[0].args["city"], str)
    assert cities and cities[0] == first[0].args["city"]
    assert out.outcomes[0].ok and out.outcomes[0].call.id == first[0].id
    assert [m.role for m in out.messages[:2]] == ["assistant", "tool"]
    assert out.messages[1].tool_call_id == first[0].id
    history = [m.to_json() for m in sent[1].messages]
    assert history[1]["tool_calls"][0]["id"] == first[0].id
    assert history[2] == {"role": "tool", "tool_call_id": first[0].id,
                          "content": out.outcomes[0].content}  # fmt: skip
    second = out.rounds[1]
    assert second.finish_reason in ("stop", "length", "tool_calls")
    assert second.text or second.tool_calls  # the model's next turn was received


def test_get_weather_round_trip(engine: Any) -> None:
    registry, cities = weather_tools()
    sent: list[ChatRequest] = []
    out = loop(engine, registry, sent)
    check_round_trip(out, cities, sent)


@pytest.mark.parametrize(
    "forced", ["required", {"type": "function", "function": {"name": "get_weather"}}]
)
def test_forced_tool_choice_then_auto(engine: Any, forced: Any) -> None:
    registry, cities = weather_tools(strict=True)
    sent: list[ChatRequest] = []
    out = loop(engine, registry, sent, tool_choice=forced)
    check_round_trip(out, cities, sent)
    assert sent[0].tool_choice == forced and sent[1].tool_choice == "auto"
