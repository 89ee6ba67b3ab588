"""Cassettes: record the server's answers, replay them byte for byte with no network.

A :class:`CassetteTransport` wraps the client's httpx transport. A request is
keyed by its endpoint and canonical JSON body (sorted keys: model, messages,
every option, seed; never a header, so never the key); the n-th time the
same body is sent it gets the n-th recording. A recording keeps the status,
the content type, the raw body (SSE or JSON, as text lines) and the client's
timing, so a replay goes through the same decoder, accumulator and renderer
as a live answer, and shows the recorded time to first token and speed.

Modes: ``record`` (send everything, merge into the file), ``replay`` (never
send; a request with no recording is a :class:`CassetteError` naming the
field that differs from the nearest recording) and ``auto`` (replay what is
there, record what is not). The file is JSON Lines, one recording a line,
sorted by endpoint and key, so a re-record changes only the lines that
changed. The key is scrubbed from everything stored, also from bodies that
echo it.
"""

from __future__ import annotations

import base64
import json
import os
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from ._exceptions import CassetteError
from ._provenance import canonical_json, first_difference, request_hash

__all__ = ["MODES", "Cassette", "CassetteTransport", "Tape", "scrub"]

MODES = ("record", "replay", "auto")
FORMAT = "nscale-cassette/1"
#: What a response extension is called that tells the client about a cassette.
EXTENSION = "nscale_cassette"
SCRUBBED = "<scrubbed>"
#: Response headers worth keeping (a 429's wait); never cookies or request ids.
_KEEP_HEADERS = ("content-type", "retry-after")


def scrub(value: Any, secret: str | None) -> Any:
    """``value`` (JSON) with every occurrence of ``secret`` replaced."""
    if not secret:
        return value
    if isinstance(value, str):
        return value.replace(secret, SCRUBBED)
    if isinstance(value, list):
        return [scrub(v, secret) for v in value]
    if isinstance(value, dict):
        return {scrub(k, secret): scrub(v, secret) for k, v in value.items()}
    return value


def endpoint(path: str) -> str:
    """The API path without the base URL's prefix: the same offline and online."""
    for tail in ("chat/completions", "models"):
        if path.rstrip("/").endswith("/" + tail):
            return tail
    return path


@dataclass
class Tape:
    """What a response tells the client about its cassette (``response.extensions``).

    ``status``: ``"hit"`` (replayed) or ``"miss"`` (live, being recorded).
    ``timing``: the recorded (time to first token, elapsed) of a hit.
    """

    status: str
    timing: tuple[float | None, float | None] | None = None
    _entry: dict[str, Any] | None = None
    _cassette: Cassette | None = None

    def note_timing(self, first_token: float | None, elapsed: float | None) -> None:
        """The client's timing of a recorded answer, kept so a replay shows the same."""
        if self._entry is not None and self._cassette is not None:
            self._entry["response"]["timing"] = {"first_token": first_token, "elapsed": elapsed}
            self._cassette.save()


class Cassette:
    """The recordings of one file, and how many times each request was sent so far."""

    def __init__(self, path: str | os.PathLike[str], mode: str = "auto") -> None:
        if mode not in MODES:
            raise CassetteError(f"cassette mode {mode!r}: use one of {', '.join(MODES)}")
        self.path = Path(path)
        self.mode = mode
        self.entries: dict[tuple[str, str, int], dict[str, Any]] = {}
        self._seen: Counter[tuple[str, str]] = Counter()
        if self.path.is_file():
            self._load()

    def __repr__(self) -> str:
        return f"<Cassette {str(self.path)!r} mode={self.mode} recordings={len(self.entries)}>"

    def _load(self) -> None:
        for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError as exc:
                raise CassetteError(f"{self.path}:{number}: not JSON ({exc})") from None
            if "format" in entry:
                continue
            request = entry["request"]
            self.entries[(request["endpoint"], entry["key"], entry["n"])] = entry

    def save(self) -> None:
        """Write every recording, sorted, one a line (atomically)."""
        lines = [json.dumps({"format": FORMAT}, sort_keys=True)]
        lines += [
            json.dumps(self.entries[k], sort_keys=True, ensure_ascii=False)
            for k in sorted(self.entries)
        ]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)

    # -- lookups ------------------------------------------------------------------------
    def recorded(self, place: str, key: str) -> list[dict[str, Any]]:
        found = [(k[2], e) for k, e in self.entries.items() if k[0] == place and k[1] == key]
        return [e for _, e in sorted(found, key=lambda t: t[0])]

    def would_replay(self, place: str, body: Any, secret: str | None = None) -> bool:
        """True when a request would be answered from the cassette (nothing sent)."""
        return self.mode != "record" and bool(self.recorded(place, _key(body, secret)))

    def miss_message(self, place: str, body: Any) -> str:
        """One line: no recording, and the field that differs from the nearest one."""
        others = [e["request"].get("body") for k, e in self.entries.items() if k[0] == place]
        head = f"cassette {self.path.name} has no recording of this {place} request"
        if not others:
            return f"{head} (it has none for {place}); record it with mode='auto' or 'record'"

        def distance(other: Any) -> int:
            if not isinstance(other, dict) or not isinstance(body, dict):
                return 1 << 30
            keys = set(other) | set(body)
            return sum(other.get(k) != body.get(k) for k in keys)

        nearest = min(others, key=distance)
        where = first_difference(body, nearest) or "?"
        now, then = _at(body, where), _at(nearest, where)
        return f"{head}; nearest differs in {where}: recorded {then}, now {now}"


def _key(body: Any, secret: str | None) -> str:
    return request_hash(scrub(body, secret))


def _at(value: Any, path: str) -> str:
    """A short repr of the value at ``path`` (``messages[1].content``)."""
    import re

    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path.split(" (")[0]):
        if part.startswith("[") and isinstance(value, list):
            i = int(part[1:-1])
            value = value[i] if i < len(value) else None
        elif isinstance(value, dict):
            value = value.get(part, "(absent)")
        else:
            break
    text = canonical_json(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


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
        key = _key(body, secret)
        n = cassette._seen[(place, key)]
        cassette._seen[(place, key)] += 1
        if cassette.mode != "record":
            recorded = cassette.recorded(place, key)
            if recorded:
                return _replay(recorded[min(n, len(recorded) - 1)], request)
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
            entry = {
                "key": key,
                "n": n,
                "request": {"method": request.method, "endpoint": place, "body": body},
                "response": {"status": response.status_code, "headers": headers, **_lines(raw)},
            }
            scrubbed = scrub(entry, secret)
            before = self.cassette.entries.get((place, key, n))
            if before is not None and _same(before["response"], scrubbed["response"]):
                return  # the same answer again: its line (and timing) stay as they were
            tape._entry = scrubbed
            self.cassette.entries[(place, key, n)] = scrubbed
            self.cassette.save()

        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_Recording(response.stream, store),
            extensions={**response.extensions, EXTENSION: tape},
        )

    async def aclose(self) -> None:
        if self._inner is not None:
            await self._inner.aclose()


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return all(a.get(k) == b.get(k) for k in ("status", "headers", "lines", "base64"))


def _lines(raw: bytes) -> dict[str, Any]:
    """The body as text lines (diffable), or base64 when it is not UTF-8."""
    try:
        return {"lines": raw.decode("utf-8").split("\n")}
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(raw).decode("ascii")}


def _body(response: Mapping[str, Any]) -> bytes:
    if "base64" in response:
        return base64.b64decode(response["base64"])
    return "\n".join(response.get("lines") or ()).encode("utf-8")


def _replay(entry: Mapping[str, Any], request: httpx.Request) -> httpx.Response:
    response = entry["response"]
    timing = response.get("timing") or {}
    tape = Tape("hit", (timing.get("first_token"), timing.get("elapsed")) if timing else None)
    return httpx.Response(
        response["status"],
        headers=response.get("headers") or {},
        content=_body(response),
        request=request,
        extensions={EXTENSION: tape},
    )
