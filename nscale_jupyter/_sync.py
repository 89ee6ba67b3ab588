"""Running async code from sync code: a private event loop on a daemon thread.

Works the same in a script, in terminal IPython and inside ipykernel (whose
own loop is already running, so ``asyncio.run`` is not an option there).
An interrupt (KeyboardInterrupt) in the calling thread cancels the task on
the loop, which closes its connection.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from typing import Any, TypeVar

from ._client import AsyncClient
from ._events import StreamEvent
from ._results import ChatResult, Model
from ._types import ChatRequest

__all__ = ["Client", "LoopThread"]

T = TypeVar("T")


class LoopThread:
    """An asyncio loop running forever on a daemon thread."""

    def __init__(self, name: str = "nscale-jupyter-loop") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop and wait; an interrupt cancels it and re-raises."""
        future = self.submit(coro)
        try:
            return future.result(timeout)
        except BaseException:
            future.cancel()
            _wait_quietly(future)
            raise

    def call(self, fn: Callable[[], Awaitable[T]]) -> T:
        async def wrapper() -> T:
            return await fn()

        return self.run(wrapper())

    def stop(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self.loop.close()


def _wait_quietly(future: concurrent.futures.Future[Any], timeout: float = 2.0) -> None:
    with contextlib.suppress(BaseException):  # it was cancelled on purpose
        future.result(timeout)


class Client:
    """A small synchronous facade over :class:`AsyncClient`, for scripts."""

    def __init__(self, api_key: str | None = None, **kwargs: Any) -> None:
        self._loop = LoopThread()
        self._async = self._loop.run(_make_client(api_key, kwargs))

    @property
    def base_url(self) -> str:
        return self._async.base_url

    def __repr__(self) -> str:
        return repr(self._async).replace("AsyncClient", "Client")

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if not self._loop.loop.is_closed():
            self._loop.run(self._async.aclose())
            self._loop.stop()

    def chat(self, request: ChatRequest) -> ChatResult:
        return self._loop.run(self._async.chat(request))

    def models(self) -> list[Model]:
        return self._loop.run(self._async.models())

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        """Yield events as they arrive; breaking out closes the connection."""
        stream = self._async.stream(request)
        iterator = stream.__aiter__()
        try:
            while True:
                try:
                    event: StreamEvent = self._loop.run(_next(iterator))
                except StopAsyncIteration:
                    return
                yield event
        finally:
            self._loop.run(stream.aclose())


async def _next(iterator: AsyncIterator[StreamEvent]) -> StreamEvent:
    return await iterator.__anext__()


async def _make_client(api_key: str | None, kwargs: dict[str, Any]) -> AsyncClient:
    # Built on the loop it will be used from.
    return AsyncClient(api_key, **kwargs)
