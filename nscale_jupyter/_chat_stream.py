"""One response of the chat endpoint, as typed events: ``AsyncClient.events`` gives it.

A stream's bytes are split into server-sent events here (``_sse``), their
JSON fed to the accumulator, and ``[DONE]``, in-stream errors and broken
connections turned into the end or into the exception tree (with what
arrived so far). A whole (non-streamed) response comes out as the same
events. Every result (and partial) gets its provenance and timing here.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from types import TracebackType
from typing import TYPE_CHECKING

import httpx

from ._accumulator import StreamAccumulator
from ._cassette import EXTENSION, Tape
from ._events import ContentDelta, ReasoningDelta, StreamDone, StreamEvent, ToolCallDelta
from ._exceptions import InStreamError, StreamError, StreamInterrupted, parse_error_body
from ._provenance import provenance_of
from ._results import ChatResult, Timing
from ._sse import SSEDecoder
from ._types import ChatRequest

if TYPE_CHECKING:
    from ._client import AsyncClient, RetryCallback

__all__ = ["ChatStream"]


class ChatStream:
    """One streaming response: an async iterator of events and an async context manager."""

    def __init__(
        self, client: AsyncClient, request: ChatRequest, on_retry: RetryCallback | None
    ) -> None:
        self.request = request
        self._client = client
        self._on_retry = on_retry
        self._acc = StreamAccumulator(client._redactor)
        self._response: httpx.Response | None = None
        self._result: ChatResult | None = None
        self._start = 0.0
        self._first: float | None = None
        self._iterator: AsyncIterator[StreamEvent] | None = None
        self._tape: Tape | None = None  # the cassette's word on this response

    @property
    def result(self) -> ChatResult:
        """The final result; only after the stream finished."""
        if self._result is None:
            raise RuntimeError("the stream has not finished; use partial() for what arrived")
        return self._result

    def partial(self, *, error: str | None = None) -> ChatResult:
        """What arrived so far, marked as truncated."""
        if self._result is not None:
            return self._result
        return self._finish(
            self._acc.result(
                truncated=True, error=error, request=self.request, timing=self._timing()
            )
        )

    def _timing(self, *, streamed: bool = True) -> Timing:
        tape = self._tape
        if tape is not None and tape.timing is not None:  # replayed: the recorded timing
            return Timing(*tape.timing)
        now = time.perf_counter()
        first = None if self._first is None or not streamed else self._first - self._start
        return Timing(first, now - self._start if self._start else None)

    def _finish(self, result: ChatResult) -> ChatResult:
        """The result with its provenance (and, being recorded, the timing kept)."""
        tape = self._tape
        if tape is not None and tape.status == "miss":
            tape.note_timing(result.timing.time_to_first_token, result.timing.elapsed)
        status = tape.status if tape is not None else None
        return replace(result, provenance=provenance_of(self.request.to_json(), result, status))

    async def __aenter__(self) -> ChatStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection (also when the stream is abandoned half-way)."""
        if self._iterator is not None:
            await self._iterator.aclose()  # type: ignore[attr-defined]
        if self._response is not None:
            await self._response.aclose()

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        if self._iterator is None:
            self._iterator = self._events()
        return self._iterator

    async def _events(self) -> AsyncIterator[StreamEvent]:
        self._start = time.perf_counter()
        if not self.request.stream:
            for event in await self._whole():
                yield event
            return
        self._response = response = await self._client._send(
            "POST",
            "/chat/completions",
            self.request.to_json(),
            stream=True,
            on_retry=self._on_retry,
        )
        self._tape = response.extensions.get(EXTENSION)
        acc = self._acc
        decoder = SSEDecoder()
        scrub = self._client._redactor
        done = False
        try:
            try:
                async for raw in response.aiter_bytes():  # decoded (gzip), split by us
                    for sse in decoder.feed(raw):
                        data = sse.data_bytes if scrub is None else scrub.data(sse.data_bytes)
                        for event in self._handle(acc, data, sse.event):
                            yield event
                if not done:
                    for sse in decoder.flush():
                        data = sse.data_bytes if scrub is None else scrub.data(sse.data_bytes)
                        for event in self._handle(acc, data, sse.event):
                            yield event
            except _Done:
                done = True
            except httpx.ReadTimeout:
                waited = self._client._http.timeout.read
                message = f"the server stalled: nothing arrived for {waited:g} s (read timeout)"
                raise StreamInterrupted(message, self.partial(error=message)) from None
            except (httpx.TransportError, httpx.StreamError) as exc:
                message = f"the connection broke mid-stream ({type(exc).__name__})"
                raise StreamInterrupted(message, self.partial(error=message)) from None
        finally:
            await response.aclose()
        timing = self._timing()
        self._result = self._finish(
            acc.result(truncated=not done, request=self.request, timing=timing)
        )
        yield StreamDone(self._result)

    async def _whole(self) -> list[StreamEvent]:
        """A non-streamed response, as the events a stream of it would give."""
        response = await self._client._send(
            "POST",
            "/chat/completions",
            self.request.to_json(),
            stream=False,
            on_retry=self._on_retry,
        )
        client = self._client
        self._tape = response.extensions.get(EXTENSION)
        content = client._scrub(response.content)
        try:
            data = json.loads(content)
        except (ValueError, RecursionError) as exc:
            raise StreamError(f"the server sent a response that is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise StreamError(f"the server sent an unexpected response: {content[:80]!r}")
        if data.get("error"):
            body = client._scrub_error(data)
            type_, message, _, code = parse_error_body(body, client._error_scrub)
            raise InStreamError(message, None, type=type_, code=code)
        events = self._acc.feed_response(data)
        self._result = self._finish(
            self._acc.result(
                request=self.request,
                timing=self._timing(streamed=False),  # not streamed: no time to a first token
                raw=data,
                prompt_logprobs=data.get("prompt_logprobs"),
            )
        )
        return [*events, StreamDone(self._result)]

    def _handle(self, acc: StreamAccumulator, data: bytes, event: str | None) -> list[StreamEvent]:
        if data[:6] == b"[DONE]":
            raise _Done
        try:
            chunk = json.loads(data)
        except (ValueError, RecursionError):
            message = f"the server sent a malformed chunk: {data[:80]!r}"
            raise StreamError(message, self.partial(error=message)) from None
        if not isinstance(chunk, dict):
            message = f"the server sent an unexpected chunk: {data[:80]!r}"
            raise StreamError(message, self.partial(error=message))
        if chunk.get("error") or event == "error":
            type_, message, _, code = parse_error_body(
                self._client._scrub_error(chunk), self._client._error_scrub
            )
            raise InStreamError(message, self.partial(error=message), type=type_, code=code)
        events = acc.feed(chunk, data)
        if self._first is None and any(isinstance(e, _FIRST_TOKEN_EVENTS) for e in events):
            self._first = time.perf_counter()
        return events


_FIRST_TOKEN_EVENTS = (ContentDelta, ReasoningDelta, ToolCallDelta)


class _Done(Exception):
    """``data: [DONE]`` arrived."""
