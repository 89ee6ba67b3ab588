"""The cassette's httpx transport: replay a recording, or send and record.

:class:`CassetteTransport` wraps the client's transport; what it does with a
request is the cassette's mode (``_cassette``). A hit is a synthetic
``httpx.Response`` of the recorded bytes (at the recorded pace with
``ChatSettings.cassette_pace``); a miss passes through a byte stream kept
whole and stored at ``[DONE]`` or at the end. Either response carries a
:class:`Tape` in its extensions, so the client knows which it got.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from ._cassette import EXTENSION, SCRUBBED, Cassette, Tape, body_of, endpoint, key_of, scrub
from ._exceptions import CassetteError

__all__ = ["CassetteTransport"]

#: Response headers worth keeping (a 429's wait); never cookies or request ids.
_KEEP_HEADERS = ("content-type", "retry-after")


class _Recording(httpx.AsyncByteStream):
    """The live body passing through, kept; stored once it is whole."""

    def __init__(self, inner: httpx.AsyncByteStream, store: Any) -> None:
        self._inner = inner
        self._store = store
        self._chunks: list[bytes] = []
        self._stored = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            self._chunks.append(chunk)
            yield chunk
        self._finish(whole=True)

    def _finish(self, *, whole: bool) -> None:
        body = b"".join(self._chunks)
        if not self._stored and (whole or b"data: [DONE]" in body):
            self._stored = True
            self._store(body)

    async def aclose(self) -> None:
        self._finish(whole=False)  # the client stops reading at [DONE]
        await self._inner.aclose()


class CassetteTransport(httpx.AsyncBaseTransport):
    """Replays recorded answers; sends (and records) the rest, as the mode says."""

    def __init__(self, cassette: Cassette, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.cassette = cassette
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        cassette = self.cassette
        auth = request.headers.get("authorization", "")
        secret = auth[7:] if auth.lower().startswith("bearer ") else (auth or None)
        place = endpoint(request.url.path)
        body = json.loads(request.content) if request.content else None
        key = key_of(body, secret)
        n = cassette.count_send(place, key)
        if cassette.mode != "record":
            recorded = cassette.recorded(place, key)
            if recorded:
                return _replay(recorded[min(n, len(recorded) - 1)], request, cassette.pace)
            if cassette.mode == "replay":
                raise CassetteError(cassette.miss_message(place, scrub(body, secret)))
        return await self._record(request, place, key, n, scrub(body, secret), secret)

    async def _record(
        self, request: httpx.Request, place: str, key: str, n: int, body: Any, secret: str | None
    ) -> httpx.Response:
        if self._inner is None:
            self._inner = httpx.AsyncHTTPTransport()
        request.headers["Accept-Encoding"] = "identity"  # store the bytes as they are
        response = await self._inner.handle_async_request(request)
        tape = Tape("miss", _cassette=self.cassette)
        headers = {k: v for k, v in response.headers.items() if k.lower() in _KEEP_HEADERS}

        def store(raw: bytes) -> None:
            if secret:
                raw = raw.replace(secret.encode(), SCRUBBED.encode())
            entry = {
                "key": key,
                "n": n,
                "request": {"method": request.method, "endpoint": place, "body": body},
                # The body stays bytes until the file is written (in the background).
                "response": {"status": response.status_code, "headers": headers, "raw": raw},
            }
            scrubbed = scrub(entry, secret)
            before = self.cassette.entries.get((place, key, n))
            if before is not None and _same(before["response"], scrubbed["response"]):
                return  # the same answer again: its line (and timing) stay as they were
            tape._entry = scrubbed
            self.cassette.put(scrubbed)
            if place != "chat/completions" or not response.is_success:
                self.cassette.save()  # an answer is saved with its timing (note_timing)

        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_Recording(response.stream, store),
            extensions={**response.extensions, EXTENSION: tape},
        )

    async def aclose(self) -> None:
        self.cassette.flush()
        if self._inner is not None:
            await self._inner.aclose()


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    same = all(a.get(k) == b.get(k) for k in ("status", "headers"))
    return same and body_of(a) == body_of(b)


def _replay(entry: Mapping[str, Any], request: httpx.Request, pace: bool) -> httpx.Response:
    response = entry["response"]
    timing = response.get("timing") or {}
    tape = Tape("hit", (timing.get("first_token"), timing.get("elapsed")) if timing else None)
    body = body_of(response)
    paced = pace and timing.get("elapsed")
    return httpx.Response(
        response["status"],
        headers=response.get("headers") or {},
        stream=_Paced(body, timing.get("first_token"), timing["elapsed"]) if paced else None,
        content=None if paced else body,
        request=request,
        extensions={EXTENSION: tape},
    )


class _Paced(httpx.AsyncByteStream):
    """A recorded body at its recorded pace: the first event at the time to first
    token, the others evenly to the recorded end (the same bytes)."""

    def __init__(self, body: bytes, first: float | None, elapsed: float) -> None:
        pieces = body.split(b"\n\n")
        self._pieces = [p + b"\n\n" for p in pieces[:-1]] + [pieces[-1]]
        self._first = min(first if first is not None else 0.0, elapsed)
        self._elapsed = elapsed

    async def __aiter__(self) -> AsyncIterator[bytes]:
        import asyncio

        loop = asyncio.get_running_loop()
        start, n = loop.time(), max(1, len(self._pieces) - 1)
        for i, piece in enumerate(self._pieces):
            due = start + self._first + (self._elapsed - self._first) * i / n
            await asyncio.sleep(max(0.0, due - loop.time()))
            yield piece
