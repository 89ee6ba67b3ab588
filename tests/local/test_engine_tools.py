"""The tool loop against the real engine: the tiny model calls get_weather, our Python
function runs, its result goes back, and the model's next turn arrives."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nscale_jupyter import AsyncClient, ChatRequest, Message
from nscale_jupyter._tools import ToolRegistry, run_tool_loop

pytestmark = pytest.mark.engine


def test_get_weather_round_trip(engine: Any) -> None:
    registry = ToolRegistry()
    calls: list[str] = []

    def get_weather(city: str) -> dict[str, Any]:
        """Get the current weather in a city.

        Args:
            city: The city name.
        """
        calls.append(city)
        return {"city": city, "temp_c": 18, "condition": "sunny"}

    registry.register(get_weather)
    request = ChatRequest(
        model=engine.model,
        messages=(Message.user("What is the weather in Paris?"),),
        tools=registry.schemas(),
        temperature=0.0,
        max_tokens=60,
    )

    async def go() -> Any:
        async with AsyncClient(base_url=engine.base_url) as client:

            async def send(r: ChatRequest) -> Any:
                return await client.chat(r.replace(stream=True))

            return await run_tool_loop(send, request, registry, max_rounds=3)

    out = asyncio.run(go())
    assert len(calls) >= 1 and isinstance(calls[0], str) and calls[0]
    assert out.outcomes[0].ok
    roles = [m.role for m in out.messages]
    assert roles[:2] == ["assistant", "tool"] and len(out.rounds) >= 2
    second = out.rounds[1]
    assert second.finish_reason in ("stop", "length", "tool_calls")
    assert second.text or second.tool_calls  # the model's next turn was received
