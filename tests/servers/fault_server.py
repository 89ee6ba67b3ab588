"""A real HTTP server on 127.0.0.1 that tests script: replies, stalls, drops, faults.

It speaks just enough HTTP/1.1 (one request per connection, then close) to
serve ``POST /v1/chat/completions`` and ``GET /v1/models`` from a queue of
:class:`Reply` objects, writing each SSE event as its own write so that
clients see real network reads.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.core.streams import choice, chunk, role

__all__ = ["FaultServer", "Received", "Reply", "sse_events", "text_reply"]


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None  # a whole body (errors, JSON)
    events: list[bytes] = field(default_factory=list)  # written one by one
    delay: float = 0.0  # before the status line
    interval: float = 0.0  # between events
    stall_after: int | None = None  # stop writing after N events; wait for the client to hang up
    drop_after: int | None = None  # close the socket abruptly after N events
    gate: threading.Event | None = None  # wait until it is set (at most 60 s) before the status


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    json: Any


def sse_events(chunks: list[dict[str, Any]], done: bool = True) -> list[bytes]:
    events = [b"data: " + json.dumps(c, ensure_ascii=False).encode() + b"\n\n" for c in chunks]
    return events + ([b"data: [DONE]\n\n"] if done else [])


def text_reply(pieces: list[str], model: str = "fake", interval: float = 0.0) -> Reply:
    chunks = [chunk(role(), model=model)]
    chunks += [chunk(choice(content=p), model=model) for p in pieces]
    chunks.append(chunk(choice(content="", finish_reason="stop"), model=model))
    n = len(pieces)
    usage = {"prompt_tokens": 5, "completion_tokens": n, "total_tokens": 5 + n}
    chunks.append(chunk(usage=usage, model=model))
    return Reply(events=sse_events(chunks), interval=interval)


class FaultServer:
    """``with FaultServer() as srv: srv.base_url; srv.enqueue(Reply(...)); srv.requests``.

    Replies come from the queue, else from ``respond(received)`` when set, else
    ``default``. ``in_flight``/``max_concurrent`` count chat requests being
    answered; ``open_connections`` counts sockets not yet closed, and
    ``hung_up`` the stalled replies whose client closed the connection.
    """

    def __init__(self, models: tuple[str, ...] = ("fake",)) -> None:
        self.models = list(models)
        self.models_delay = 0.0  # before answering GET /models
        self.models_pending = 0  # GET /models received and not yet answered
        self.replies: list[Reply] = []
        self.default = text_reply(["Hello", "!"])
        self.requests: list[Received] = []
        self.respond: Callable[[Received], Reply] | None = None
        self.in_flight = 0
        self.max_concurrent = 0
        self.open_connections = 0
        self.hung_up = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until every connection is closed; False if some stayed open."""
        deadline = time.monotonic() + timeout
        while self.open_connections or self.in_flight:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def enqueue(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def __enter__(self) -> FaultServer:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, "127.0.0.1", 0), self._loop
        ).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            assert self._server is not None
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open_connections += 1
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {
                k.strip().lower(): v.strip()
                for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)
            }
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            received = Received(method, path, headers, json.loads(body) if body else None)
            self.requests.append(received)
            if path.endswith("/models"):
                data = json.dumps(
                    {
                        "object": "list",
                        "data": [
                            {"id": m, "object": "model", "owned_by": "fake"} for m in self.models
                        ],
                    }
                )
                models = Reply(
                    body=data.encode(),
                    headers={"content-type": "application/json"},
                    delay=self.models_delay,
                )
                self.models_pending += 1
                try:
                    await self._write(writer, models, reader)
                finally:
                    self.models_pending -= 1
                return
            if self.replies:
                reply = self.replies.pop(0)
            elif self.respond is not None:
                reply = self.respond(received)
            else:
                reply = self.default
            self.in_flight += 1
            self.max_concurrent = max(self.max_concurrent, self.in_flight)
            try:
                await self._write(writer, reply, reader)
            finally:
                self.in_flight -= 1
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            self.open_connections -= 1

    async def _write(
        self,
        writer: asyncio.StreamWriter,
        reply: Reply,
        reader: asyncio.StreamReader,
    ) -> None:
        await asyncio.sleep(reply.delay)
        if reply.gate is not None:
            await asyncio.to_thread(reply.gate.wait, 60)
        streaming = reply.body is None
        headers = {
            "content-type": "text/event-stream; charset=utf-8"
            if streaming
            else "application/json",
            **reply.headers,
            "connection": "close",
        }
        if streaming:  # chunked, so a dropped connection is visibly incomplete
            headers["transfer-encoding"] = "chunked"
        else:
            headers["content-length"] = str(len(reply.body or b""))
        status = (
            f"HTTP/1.1 {reply.status} X\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            + "\r\n"
        )
        writer.write(status.encode())
        if not streaming:
            writer.write(reply.body or b"")
            await writer.drain()
            return
        for i, event in enumerate(reply.events):
            if reply.drop_after is not None and i >= reply.drop_after:
                writer.transport.abort()
                return
            if reply.stall_after is not None and i >= reply.stall_after:
                while await reader.read(4096):  # until the client hangs up
                    pass
                self.hung_up += 1
                return
            writer.write(b"%x\r\n%s\r\n" % (len(event), event))
            await writer.drain()
            if reply.interval and i < len(reply.events) - 1:  # between events only
                await asyncio.sleep(reply.interval)
        writer.write(b"0\r\n\r\n")
        await writer.drain()
