"""Builders for chat.completion.chunk streams as vLLM sends them, and a MockTransport."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import httpx

Chunk = dict[str, Any]


def chunk(
    *choices: dict[str, Any],
    usage: dict[str, Any] | None = None,
    id: str = "chatcmpl-1",
    model: str = "m",
    **extra: Any,
) -> Chunk:
    out: Chunk = {
        "id": id,
        "object": "chat.completion.chunk",
        "created": 1735689600,
        "model": model,
        "choices": list(choices),
    }
    if usage is not None:
        out["usage"] = usage
    out.update(extra)
    return out


def choice(
    index: int = 0,
    finish_reason: str | None = None,
    logprobs: Any = None,
    stop_reason: Any = "absent",
    **delta: Any,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "index": index,
        "delta": delta,
        "logprobs": logprobs,
        "finish_reason": finish_reason,
    }
    if stop_reason != "absent":
        out["stop_reason"] = stop_reason
    return out


def role(index: int = 0) -> dict[str, Any]:
    return choice(index, role="assistant", content="")


USAGE = {"prompt_tokens": 12, "total_tokens": 20, "completion_tokens": 8}


def sse(chunks: Iterable[Chunk | str], *, done: bool = True, newline: bytes = b"\n") -> bytes:
    """Frame chunks as ``data: {json}`` events (a str is written as raw data)."""
    out = b""
    for c in chunks:
        data = c if isinstance(c, str) else json.dumps(c, ensure_ascii=False)
        out += b"data: " + data.encode() + newline + newline
    if done:
        out += b"data: [DONE]" + newline + newline
    return out


def text_chunks(pieces: Sequence[str], *, finish: str = "stop", usage: bool = True) -> list[Chunk]:
    chunks = [chunk(role())]
    chunks += [chunk(choice(content=p)) for p in pieces]
    chunks.append(chunk(choice(finish_reason=finish, stop_reason=None, content="")))
    if usage:
        chunks.append(chunk(usage=USAGE))
    return chunks


class Body(httpx.AsyncByteStream, httpx.SyncByteStream):
    """A response body written in the given pieces (network reads)."""

    def __init__(self, pieces: Sequence[bytes], error: Exception | None = None) -> None:
        self.pieces = pieces
        self.error = error

    async def __aiter__(self):  # type: ignore[override]
        for piece in self.pieces:
            yield piece
        if self.error is not None:
            raise self.error

    def __iter__(self):  # type: ignore[override]
        yield from self.pieces
        if self.error is not None:
            raise self.error


def split(body: bytes, every: int | None = None, at: Sequence[int] = ()) -> list[bytes]:
    """Cut ``body`` into reads: every N bytes, or at the given offsets."""
    cuts = sorted(set(at)) if at else list(range(every or len(body), len(body), every or 1))
    pieces, last = [], 0
    for cut in cuts:
        if 0 < cut < len(body):
            pieces.append(body[last:cut])
            last = cut
    pieces.append(body[last:])
    return pieces


def stream_response(
    body: bytes,
    *,
    every: int | None = None,
    status: int = 200,
    error: Exception | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return httpx.Response(
        status,
        headers={"content-type": "text/event-stream; charset=utf-8", **(headers or {})},
        stream=Body(split(body, every), error),
    )


Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport handler that serves responses in order and records requests."""

    def __init__(self, *responses: httpx.Response | Handler) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.responses:
            raise AssertionError("no more scripted responses")
        response = self.responses.pop(0)
        return response(request) if callable(response) else response

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests if r.content]

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


class SlowServer:
    """An async MockTransport handler for concurrency tests.

    Each chat request takes ``delay`` s and streams ``reply(body)``; ``bodies``
    are the chat requests' JSON, ``peak`` the most of them in flight at once.
    """

    def __init__(
        self,
        reply: Callable[[dict[str, Any]], str],
        models: Sequence[str] = ("m",),
        delay: float = 0.05,
    ) -> None:
        self.reply, self.models, self.delay = reply, models, delay
        self.bodies: list[dict[str, Any]] = []
        self.in_flight = 0
        self.peak = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/models"):
            return httpx.Response(200, json={"data": [{"id": m} for m in self.models]})
        body = json.loads(request.content)
        self.bodies.append(body)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        await asyncio.sleep(self.delay)
        self.in_flight -= 1
        return httpx.Response(
            200,
            headers={"content-type": "text/event-stream"},
            stream=Body([sse(text_chunks([self.reply(body)]))]),
        )
