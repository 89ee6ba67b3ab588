"""Streaming throughput of the client and of the paths users take, side by side.

A loopback server (its own process) streams the same long reply: 20,000
chunks, each with a top-5 logprobs entry, as vLLM 0.32 writes them. In one
run, interleaved, we time events per second of:

- floor: httpx ``aiter_bytes``, events split on blank lines, no parsing;
- parse-and-keep: the same plus ``json.loads`` of each event, keeping them;
- ours: ``AsyncClient.stream()`` through to the final ``ChatResult``;
- achat: ``await achat(...)``, the turn engine on the session's loop;
- turn events: a cell's path, every event of a turn handed to the calling
  thread (what ``%%chat`` iterates, before rendering);
- openai: the openai SDK 3.x streaming the same reply (pydantic per chunk).

Also: time to first event (first byte in -> first event out) added by the
client, and by the session and turn engine on top of it.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nscale_jupyter import AsyncClient, ChatRequest, ContentDelta, Message, StreamDone  # noqa: E402
from nscale_jupyter import achat as nscale_achat  # noqa: E402
from nscale_jupyter._session import Session  # noqa: E402
from nscale_jupyter._turn import TurnSpec  # noqa: E402

N_CHUNKS = 20_000
ROUNDS = 5

SERVER = r"""
import asyncio, sys
stream = open(sys.argv[1], "rb").read()
models = b'{"object": "list", "data": [{"id": "tiny-chat"}]}'
async def handle(reader, writer):
    head = await reader.readuntil(b"\r\n\r\n")
    get = head.startswith(b"GET")
    body, kind = (models, b"application/json") if get else (stream, b"text/event-stream")
    head = (b"HTTP/1.1 200 OK\r\ncontent-type: " + kind + b"\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body))
    writer.write(head)
    try:
        for i in range(0, len(body), 65536):
            writer.write(body[i:i + 65536])
            await writer.drain()
    except ConnectionError:
        pass  # the first-event probe hangs up after one event
    writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()
asyncio.run(main())
"""


def build_body() -> bytes:
    out = []
    for i in range(N_CHUNKS):
        token = f" w{i % 97}"
        entry = {
            "token": token,
            "logprob": -0.25,
            "bytes": list(token.encode()),
            "top_logprobs": [
                {"token": f" a{k}", "logprob": -1.0 - k, "bytes": list(f" a{k}".encode())}
                for k in range(5)
            ],
        }
        chunk = {
            "id": "chatcmpl-bench",
            "object": "chat.completion.chunk",
            "created": 1795580834,
            "model": "tiny-chat",
            "choices": [
                {
                    "index": 0,
                    "delta": {"content": token},
                    "logprobs": {"content": [entry]},
                    "finish_reason": None,
                    "token_ids": None,
                }
            ],
        }
        out.append(b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n")
    out.append(b"data: [DONE]\n\n")
    return b"".join(out)


async def floor(url: str) -> int:
    n, buf = 0, b""
    async with httpx.AsyncClient() as http, http.stream("POST", url, json={}) as r:
        async for piece in r.aiter_bytes():
            buf += piece
            *events, buf = buf.split(b"\n\n")
            n += len(events)
    return n


async def parse_and_keep(url: str) -> int:
    kept, buf = [], b""
    async with httpx.AsyncClient() as http, http.stream("POST", url, json={}) as r:
        async for piece in r.aiter_bytes():
            buf += piece
            *events, buf = buf.split(b"\n\n")
            for event in events:
                data = event[6:]
                if data != b"[DONE]":
                    kept.append(json.loads(data))
    return len(kept)


REQUEST = ChatRequest(model="tiny-chat", messages=(Message.user("go"),), stream=True)


async def ours(base: str, materialise: bool = False) -> int:
    """Our client; with ``materialise``, every TokenLogprob object built too
    (they are built on first access)."""
    async with AsyncClient(base_url=base) as client, client.stream(REQUEST) as stream:
        n = 0
        async for event in stream:
            n += 1
            if isinstance(event, StreamDone):
                logprobs = event.result.logprobs or ()
                if materialise:
                    assert sum(len(t.top_logprobs) for t in logprobs) == 5 * N_CHUNKS
                else:
                    assert len(logprobs) == N_CHUNKS
    return n


def session_for(base: str, transport: httpx.AsyncBaseTransport | None = None) -> Session:
    session = Session(transport=transport)
    session.settings.base_url = base
    return session


SPEC = TurnSpec((Message.user("go"),), options={"model": "tiny-chat", "max_tokens": 50_000})


async def achat_path(session: Session) -> int:
    """``achat``: the whole turn on the session loop, one hop back."""
    result = await nscale_achat("go", session=session, model="tiny-chat", max_tokens=50_000)
    assert len(result.logprobs or ()) == N_CHUNKS
    return len(result.logprobs or ())


async def turn_events(session: Session) -> int:
    """A cell's path: every event of the turn handed to this (the calling) thread."""
    n = 0
    for _ in session.turn(SPEC):
        n += 1
    return n


async def openai_sdk(base: str) -> int:
    import httpx2
    import openai

    client = openai.AsyncOpenAI(api_key="x", base_url=base, http_client=httpx2.AsyncClient())
    stream = await client.chat.completions.create(
        model="tiny-chat", messages=[{"role": "user", "content": "go"}], stream=True
    )
    n = 0
    async for _ in stream:
        n += 1
    await client.close()
    return n


async def first_event_overhead(base: str) -> float:
    """Client-added time: first body byte received -> first event yielded (ms)."""
    marks: dict[str, float] = {}

    class Timed(httpx.AsyncHTTPTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await super().handle_async_request(request)
            inner = response.stream

            class Stream(httpx.AsyncByteStream):
                async def __aiter__(self):  # type: ignore[override]
                    async for piece in inner:  # type: ignore[union-attr]
                        marks.setdefault("byte", time.perf_counter())
                        yield piece

                async def aclose(self) -> None:
                    await inner.aclose()  # type: ignore[union-attr]

            response.stream = Stream()
            return response

    async with (
        AsyncClient(base_url=base, transport=Timed()) as client,
        client.stream(REQUEST) as stream,
    ):
        async for _ in stream:
            marks["event"] = time.perf_counter()
            break
    return (marks["event"] - marks["byte"]) * 1000


class _Timed(httpx.AsyncHTTPTransport):
    """Marks when the first body byte arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.first_byte = 0.0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        inner, timed = response.stream, self

        class Stream(httpx.AsyncByteStream):
            async def __aiter__(self):  # type: ignore[override]
                async for piece in inner:  # type: ignore[union-attr]
                    if not timed.first_byte:
                        timed.first_byte = time.perf_counter()
                    yield piece

            async def aclose(self) -> None:
                await inner.aclose()  # type: ignore[union-attr]

        response.stream = Stream()
        return response


def turn_first_event(base: str) -> float:
    """Session + turn engine + client: first byte in -> first content event on the caller (ms)."""
    transport = _Timed()
    session = session_for(base, transport)
    try:
        session.models()  # the model list is fetched ahead, as in a kernel
        transport.first_byte = 0.0
        turn = session.turn(SPEC)
        for event in turn:
            if isinstance(event, ContentDelta):
                seen = time.perf_counter()
                break
        return (seen - transport.first_byte) * 1000
    finally:
        session.close()


def main() -> None:
    body_path = ROOT / "build" / "bench_stream.sse"
    body_path.parent.mkdir(exist_ok=True)
    body_path.write_bytes(build_body())
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(body_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        port = int(server.stdout.readline())  # type: ignore[union-attr]
        base = f"http://127.0.0.1:{port}/v1"
        url = base + "/chat/completions"
        session = session_for(base)  # one per kernel: its loop and pool stay
        candidates = {
            "floor": lambda: floor(url),
            "parse-and-keep": lambda: parse_and_keep(url),
            "ours": lambda: ours(base),
            "ours+objects": lambda: ours(base, materialise=True),
            "achat": lambda: achat_path(session),
            "turn events": lambda: turn_events(session),
            "openai": lambda: openai_sdk(base),
        }
        times: dict[str, list[float]] = {name: [] for name in candidates}
        for _ in range(ROUNDS):  # interleaved, so machine noise hits all alike
            for name, run in candidates.items():
                start = time.perf_counter()
                events = asyncio.run(run())
                times[name].append(time.perf_counter() - start)
                assert events >= N_CHUNKS, (name, events)
        rate = {name: N_CHUNKS / statistics.median(ts) for name, ts in times.items()}
        print(f"{N_CHUNKS} chunks with top-5 logprobs, median of {ROUNDS} interleaved rounds")
        for name, r in rate.items():
            print(f"  {name:<15} {r:>10,.0f} events/s   ({statistics.median(times[name]):.3f} s)")
        print(
            f"  ours / parse-and-keep = {rate['ours'] / rate['parse-and-keep']:.2f}x (goal >= 1.0)"
        )
        print(f"  ours / openai         = {rate['ours'] / rate['openai']:.2f}x (goal >= 5)")
        print(f"  ours / floor          = {rate['ours'] / rate['floor']:.2f}x")
        print(
            "  ours+objects / parse-and-keep = "
            f"{rate['ours+objects'] / rate['parse-and-keep']:.2f}x,"
            f" / openai = {rate['ours+objects'] / rate['openai']:.2f}x "
            "(every TokenLogprob built too)"
        )
        for path in ("achat", "turn events"):
            print(
                f"  {path} / ours = {rate[path] / rate['ours']:.2f}x (goal >= 0.9), "
                f"/ openai = {rate[path] / rate['openai']:.2f}x (goal >= 7)"
            )
        session.close()
        overhead = sorted(asyncio.run(first_event_overhead(base)) for _ in range(15))
        print(
            f"  client-added time to first event: median {overhead[7]:.3f} ms "
            f"(min {overhead[0]:.3f}, max {overhead[-1]:.3f}; goal < 2 ms)"
        )
        whole = sorted(turn_first_event(base) for _ in range(15))
        print(
            f"  session + turn + client, first byte -> first event on the caller: median "
            f"{whole[7]:.3f} ms; the session adds {whole[7] - overhead[7]:.3f} ms (goal < 1 ms)"
        )
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
