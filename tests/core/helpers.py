"""Run a recorded stream through the real client on a MockTransport."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from nscale_jupyter import AsyncClient, ChatRequest, ChatResult, Message, StreamDone, StreamEvent

from .streams import Body, Recorder, stream_response

REQUEST = ChatRequest(model="m", messages=(Message.user("hi"),), max_tokens=50)


def run_stream(
    body: bytes,
    *,
    every: int | None = None,
    error: Exception | None = None,
    pieces: list[bytes] | None = None,
) -> tuple[ChatResult, list[StreamEvent]]:
    """Stream ``body`` (cut into reads: ``every`` N bytes, or the given ``pieces``)."""

    async def go() -> tuple[ChatResult, list[StreamEvent]]:
        response = stream_response(body, every=every, error=error)
        if pieces is not None:
            response = httpx.Response(200, headers=response.headers, stream=Body(pieces, error))
        recorder = Recorder(response)
        async with AsyncClient(
            "sk-test", base_url="https://api.test/v1", transport=recorder.transport()
        ) as client:
            events: list[StreamEvent] = []
            async with client.stream(REQUEST) as stream:
                async for event in stream:
                    events.append(event)
            assert isinstance(events[-1], StreamDone)
            assert events[-1].result is stream.result
            return stream.result, events

    return asyncio.run(go())


def run_full(response: dict[str, Any]) -> ChatResult:
    async def go() -> ChatResult:
        recorder = Recorder(httpx.Response(200, json=response))
        async with AsyncClient(
            "sk-test", base_url="https://api.test/v1", transport=recorder.transport()
        ) as client:
            return await client.chat(REQUEST)

    return asyncio.run(go())


def of_type(events: list[StreamEvent], kind: type) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]
