"""Threads, settings and running requests: the layer under the magics and the panel.

No IPython and no display code here. One ``Session`` per kernel owns one
``ChatSettings``, the conversation threads, and one ``AsyncClient`` living
on a private event loop (``LoopThread``), so the same client serves cells,
widget callbacks and scripts, whichever thread or loop they run on.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import queue
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._config import DEFAULT_BASE_URL, Secret, resolve_api_key, resolve_base_url
from ._events import StreamDone, StreamEvent
from ._exceptions import ConfigError, NscaleError
from ._options import OPTIONS, check_combination, option
from ._retry import RetryNotice
from ._settings import ChatSettings
from ._types import ChatRequest, ChatResult, Message, Model

if TYPE_CHECKING:  # httpx loads with the first request, not with %load_ext
    import httpx

    from ._client import AsyncClient, ChatStream
    from ._sync import LoopThread

__all__ = ["Session", "Thread"]

#: What an event iterator yields: stream events, and notices of retries.
Item = StreamEvent | RetryNotice
_EXTRAS = frozenset(o.name for o in OPTIONS if o.extra)
#: Request fields that are not options of the table but settings.
_NOT_FIELDS = frozenset({"tools"})
#: Override keys that are not options of the table.
_NOT_OPTIONS = frozenset({"extra", "stream", "include_usage"})


@dataclass
class Thread:
    """One conversation: a system prompt and the messages so far."""

    name: str
    system: str | None = None
    messages: list[Message] = field(default_factory=list)

    def history(self) -> list[Message]:
        """The messages to send before a new user turn (system first)."""
        head = [Message.system(self.system)] if self.system else []
        return head + self.messages

    def record(self, added: Sequence[Message]) -> None:
        """Append the messages of one finished (or cut-off) turn."""
        self.messages.extend(added)

    def clear(self) -> None:
        self.messages.clear()


class _End:
    """Marks the end of a bridged event stream."""


@dataclass(frozen=True)
class _Failure:
    error: BaseException


def _is_end(item: object) -> bool:
    """True at the end of the bridged stream; re-raises the request's error."""
    if isinstance(item, _End):
        return True
    if isinstance(item, _Failure):
        if isinstance(item.error, asyncio.CancelledError):
            return True
        raise item.error
    return False


class EventPump:
    """Events of one request, delivered on the caller's thread.

    Iterate it; ``partial()`` gives what arrived so far (after an interrupt
    or an error). An interrupt (KeyboardInterrupt) in the iterating thread
    cancels the request on the session loop, which closes the connection.
    """

    def __init__(self, session: Session, request: ChatRequest) -> None:
        self._session = session
        self.request = request
        self._stream: ChatStream | None = None
        self._result: ChatResult | None = None
        self._future: concurrent.futures.Future[Any] | None = None
        self._finished = threading.Event()  # set once the request's task has ended
        #: Called on the iterating thread when no event came for a moment (a stall):
        #: lets a display show what it has been holding back.
        self.on_idle: Callable[[], None] | None = None

    def cancel(self, timeout: float = 2.0) -> None:
        """Cancel the request (closing its connection) and wait until it has ended."""
        if self._future is not None and not self._future.done():
            self._future.cancel()
        if self._future is not None:
            self._finished.wait(timeout)

    def partial(self) -> ChatResult | None:
        if self._result is not None:
            return self._result
        return self._stream.partial() if self._stream is not None else None

    async def _pump(self, put: Callable[[object], None]) -> None:
        try:
            client = await self._session._aclient()
            if not self.request.stream:
                self._result = await client.chat(self.request, on_retry=put)
                put(StreamDone(self._result))
                return
            async with client.stream(self.request, on_retry=put) as stream:
                self._stream = stream
                async for event in stream:
                    if isinstance(event, StreamDone):
                        self._result = event.result
                    put(event)
        except BaseException as exc:
            put(_Failure(exc))
            if not isinstance(exc, Exception):
                raise
        finally:
            put(_End())
            self._finished.set()

    def __iter__(self) -> Iterator[Item]:
        inbox: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._future = self._session.loop.submit(self._pump(inbox.put))
        try:
            while True:
                try:
                    item = inbox.get(timeout=0.05)  # short waits keep Ctrl-C responsive
                except queue.Empty:
                    if self.on_idle is not None:
                        self.on_idle()
                    continue
                if _is_end(item):
                    return
                yield item  # type: ignore[misc]
        finally:
            self.cancel()

    async def __aiter__(self) -> AsyncIterator[Item]:
        """The same events, on the running loop of the caller (e.g. the kernel's).

        Events are handed over in batches: the session loop wakes the caller's
        loop once per batch, not once per event, so many concurrent streams
        do not flood both loops with cross-thread wake-ups.
        """
        loop = asyncio.get_running_loop()
        batch: collections.deque[object] = collections.deque()
        ready = asyncio.Event()
        woken = threading.Event()  # set while a wake-up is on its way

        def wake() -> None:
            woken.clear()
            ready.set()

        def put(item: object) -> None:
            batch.append(item)
            if not woken.is_set():
                woken.set()
                loop.call_soon_threadsafe(wake)

        self._future = self._session.loop.submit(self._pump(put))
        try:
            while True:
                await ready.wait()
                ready.clear()
                while batch:
                    item = batch.popleft()
                    if _is_end(item):
                        return
                    yield item  # type: ignore[misc]
        finally:
            if not self._future.done():
                self._future.cancel()
            await loop.run_in_executor(None, self._finished.wait, 2.0)

    async def result(self) -> ChatResult:
        """Run the request to its end on the session loop; one hop back to the caller."""

        async def collect() -> ChatResult:
            ended: list[object] = []
            await self._pump(ended.append)
            for item in ended:
                _is_end(item)  # re-raises the request's error
            if self._result is None:  # pragma: no cover - the pump either finishes or fails
                raise RuntimeError("the request ended without a result")
            return self._result

        future = self._future = self._session.loop.submit(collect())
        return await asyncio.wrap_future(future)


class Session:
    """Settings, threads and the client of one kernel (or script)."""

    def __init__(
        self,
        settings: ChatSettings | None = None,
        *,
        api_key: str | Secret | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings if settings is not None else ChatSettings()
        self.threads: dict[str, Thread] = {}
        self.current = "default"
        self._key = resolve_api_key(api_key)
        self._transport = transport
        self._loop: LoopThread | None = None
        self._client: AsyncClient | None = None
        self._client_config: tuple[object, ...] | None = None
        self._models: dict[str, list[Model]] = {}  # base URL -> models, for context lengths
        self.tools: Any = None  # a tool registry, when the tools module is loaded
        self.last_prompt: list[Message] | None = None

    def __repr__(self) -> str:
        key = "set" if self._key is not None else "none"
        return f"<Session base_url={self.base_url!r} key={key} threads={list(self.threads)}>"

    # -- configuration ------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return resolve_base_url(self.settings.base_url)

    @property
    def has_key(self) -> bool:
        return self._key is not None

    @property
    def needs_key(self) -> bool:
        """True when talking to nscale without a key (the magic then asks once)."""
        return self._key is None and self.base_url == DEFAULT_BASE_URL

    def set_key(self, key: str | Secret | None) -> None:
        self._key = resolve_api_key(key) if key is not None else None

    @property
    def loop(self) -> LoopThread:
        if self._loop is None:
            from ._sync import LoopThread

            self._loop = LoopThread()
        return self._loop

    async def _aclient(self) -> AsyncClient:
        """The client for the current base URL and key (made on the session loop)."""
        s = self.settings
        config = (self.base_url, self._key, s.timeout, s.allow_insecure_http)
        if self._client is None or self._client_config != config:
            if self._client is not None:
                await self._client.aclose()
            import httpx

            from ._client import AsyncClient

            self._client_config = None
            self._client = AsyncClient(
                self._key,
                base_url=self.base_url,
                timeout=httpx.Timeout(s.timeout, connect=min(10.0, s.timeout)),
                allow_insecure_http=s.allow_insecure_http,
                transport=self._transport,
            )
            self._client_config = config
        return self._client

    def close(self) -> None:
        """Close the client and stop the loop (``%unload_ext``)."""
        if self._loop is not None:
            if self._client is not None:
                with contextlib.suppress(Exception):
                    self._loop.run(self._client.aclose())
            self._loop.stop()
        self._loop = None
        self._client = None

    # -- threads ----------------------------------------------------------------------
    def thread(self, name: str | None = None) -> Thread:
        """The named thread (created on first use), or the current one."""
        name = name or self.current
        if name not in self.threads:
            self.threads[name] = Thread(name, self.settings.system)
        return self.threads[name]

    def new_thread(self, name: str | None = None) -> Thread:
        """Start the current (or named) thread afresh."""
        name = name or self.current
        self.threads[name] = Thread(name, self.settings.system)
        return self.threads[name]

    # -- requests ---------------------------------------------------------------------
    def build_request(
        self, messages: Sequence[Message], overrides: Mapping[str, Any] | None = None
    ) -> ChatRequest:
        """A request from settings, with inline ``overrides`` winning (None = not given)."""
        values = self.settings.request_options()
        for name, value in (overrides or {}).items():
            if value is not None and name not in _NOT_OPTIONS:
                values[option(name).name] = value
        check_combination(values)
        stream = overrides.get("stream") if overrides else None
        include_usage = overrides.get("include_usage") if overrides else None
        fields: dict[str, Any] = {}
        extra: dict[str, Any] = dict((overrides or {}).get("extra") or {})
        for name, value in values.items():
            if name in _EXTRAS:
                extra.setdefault(name, value)
            elif name not in _NOT_FIELDS:
                fields[name] = value
        if fields.get("model") is None:
            fields["model"] = self.default_model()
        limit = self._context_length(fields["model"])
        for name in ("max_tokens", "max_completion_tokens"):
            if limit is not None and fields.get(name) is not None and fields[name] > limit:
                fields[name] = limit  # the server refuses more than its context
        return ChatRequest(
            messages=tuple(messages),
            stream=self.settings.stream if stream is None else stream,
            include_usage=self.settings.include_usage if include_usage is None else include_usage,
            extra=extra,
            **fields,
        )

    def default_model(self) -> str:
        """The server's only model; otherwise ask the user to choose.

        Uses the model list already fetched for this base URL (``%chat models``
        refreshes it), so a cell does not ask ``GET /models`` again each time.
        """
        cached = self._models.get(self.base_url)
        models = [m.id for m in cached] if cached else self.models()
        if len(models) == 1:
            return models[0]
        listed = ", ".join(models[:8]) + (", ..." if len(models) > 8 else "")
        raise ConfigError(
            "no model chosen: use --model NAME or %chat set model=NAME "
            f"(the server has: {listed or 'no models'})"
        )

    def models(self) -> list[str]:
        """Model ids from ``GET /models``."""
        return [m.id for m in self._fetch_models()]

    async def _afetch_models(self, base_url: str) -> list[Model]:
        """``GET /models`` on the session loop, remembered for ``base_url``."""
        client = await self._aclient()
        models = self._models[base_url] = await client.models()
        return models

    def _fetch_models(self) -> list[Model]:
        return self.loop.run(self._afetch_models(self.base_url))

    async def aload_models(self) -> None:
        """Fetch ``GET /models`` (cached per base URL) without blocking the caller's loop."""
        base_url = self.base_url
        if base_url not in self._models:
            try:
                await asyncio.wrap_future(self.loop.submit(self._afetch_models(base_url)))
            except NscaleError:
                self._models[base_url] = []  # no context lengths from this server

    def _context_length(self, model: str) -> int | None:
        """The model's context length from ``GET /models`` (cached), when the server says."""
        if self.base_url not in self._models:
            try:
                self._fetch_models()
            except NscaleError:
                self._models[self.base_url] = []
        for m in self._models[self.base_url]:
            if m.id == model:
                return m.max_model_len
        return None

    def events(self, request: ChatRequest) -> EventPump:
        """Run one request; iterate (sync or async) for its events."""
        return EventPump(self, request)

    def run(self, request: ChatRequest) -> ChatResult:
        """Run one request to the end and return its result."""
        for item in self.events(request):
            if isinstance(item, StreamDone):
                return item.result
        raise RuntimeError("the request ended without a result")  # pragma: no cover

    async def arun(self, request: ChatRequest) -> ChatResult:
        """Like :meth:`run`, awaitable from any event loop (cancelling it cancels the request)."""
        return await self.events(request).result()
