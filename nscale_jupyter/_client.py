"""The async HTTP client: requests out, typed events and results back.

It knows nothing of IPython, widgets or display.
"""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import Callable, Generator
from types import TracebackType
from typing import Any

import httpx

from ._chat_stream import ChatStream
from ._config import Secret, is_loopback_url, resolve_api_key, resolve_base_url
from ._exceptions import ConfigError, ConnectError, StreamError, TimeoutError, api_error
from ._redact import KeyRedactor
from ._results import ChatResult, Model
from ._retry import RetryNotice, backoff_delay, should_retry
from ._types import ChatRequest

__all__ = ["AsyncClient"]

DEFAULT_TIMEOUT = httpx.Timeout(600.0, connect=10.0)
_INSECURE_HINT = (
    "use https, or opt in with allow_insecure_http=True "
    "(in a notebook: %config ChatSettings.allow_insecure_http = True)"
)
RetryCallback = Callable[[RetryNotice], None]


class _BearerAuth(httpx.Auth):
    """Adds the key at send time, only to the configured base URL."""

    def __init__(self, key: Secret | None, base_url: str, allow_insecure_http: bool) -> None:
        self._key = key
        self._base_url = base_url
        self._allow_insecure = allow_insecure_http

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._key is not None and str(request.url).startswith(self._base_url):
            if (
                request.url.scheme == "http"
                and not self._allow_insecure
                and not is_loopback_url(str(request.url))
            ):
                raise ConfigError(
                    f"refusing to send the API key over plain http to {request.url.host}; "
                    + _INSECURE_HINT
                )
            request.headers["Authorization"] = "Bearer " + self._key.reveal()
        yield request

    def __repr__(self) -> str:
        return "<_BearerAuth ********>"


class AsyncClient:
    """An async client for an OpenAI-compatible chat completions API.

    >>> async with AsyncClient() as client:          # doctest: +SKIP
    ...     result = await client.chat(ChatRequest(model="m", messages=(Message.user("hi"),)))
    """

    def __init__(
        self,
        api_key: str | Secret | None = None,
        *,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = 2,
        transport: httpx.AsyncBaseTransport | None = None,
        on_retry: RetryCallback | None = None,
        allow_insecure_http: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.base_url = resolve_base_url(base_url)
        self._key = resolve_api_key(api_key)
        # What the server sends back is scrubbed of the key (see _redact).
        self._redactor = KeyRedactor.for_key(self._key.reveal() if self._key else None)
        self.max_retries = max_retries
        self.on_retry = on_retry
        if self._key is not None and not (
            self.base_url.startswith("https://") or is_loopback_url(self.base_url)
        ):
            if not allow_insecure_http:
                raise ConfigError(
                    f"refusing to send the API key over plain http to {self.base_url}; "
                    + _INSECURE_HINT
                )
            warnings.warn(
                f"the API key will be sent unencrypted to {self.base_url} "
                "(allow_insecure_http is on)",
                UserWarning,
                stacklevel=2,
            )
        self._http = httpx.AsyncClient(
            auth=_BearerAuth(self._key, self.base_url, allow_insecure_http),
            timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
            transport=transport,
            headers=headers,
            follow_redirects=False,
        )

    @property
    def has_key(self) -> bool:
        return self._key is not None

    def __repr__(self) -> str:
        key = "set" if self._key is not None else "none"
        return f"<AsyncClient base_url={self.base_url!r} key={key}>"

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    # -- endpoints -----------------------------------------------------------
    async def models(self) -> list[Model]:
        """``GET /models``."""
        response = await self._send("GET", "/models", None, stream=False)
        try:
            data = json.loads(self._scrub(response.content))
        except (ValueError, RecursionError) as exc:
            raise StreamError(f"the server sent a model list that is not JSON: {exc}") from None
        listed = data.get("data") if isinstance(data, dict) else None
        return [
            Model.from_json(m)
            for m in (listed if isinstance(listed, list) else ())
            if isinstance(m, dict) and "id" in m
        ]

    async def chat(
        self, request: ChatRequest, *, on_retry: RetryCallback | None = None
    ) -> ChatResult:
        """Send one request and return its result (streamed when ``request.stream``)."""
        async with self.events(request, on_retry=on_retry) as stream:
            async for _ in stream:
                pass
        return stream.result

    def stream(self, request: ChatRequest, *, on_retry: RetryCallback | None = None) -> ChatStream:
        """Stream one request: ``async with client.stream(req) as s: async for event in s``.

        The last event is :class:`StreamDone` with the result; ``s.result``
        holds it too, and ``s.partial()`` gives what arrived so far.
        """
        return self.events(request.replace(stream=True), on_retry=on_retry)

    def events(self, request: ChatRequest, *, on_retry: RetryCallback | None = None) -> ChatStream:
        """The request's events, streamed or not (as ``request.stream`` says).

        A whole (non-streamed) response goes through the same accumulator and
        comes out as the same events a stream gives, so every consumer sees
        one shape whichever way the reply travelled.
        """
        return ChatStream(self, request, on_retry or self.on_retry)

    # -- scrubbing the key out of what came back -------------------------------
    def _scrub(self, data: bytes) -> bytes:
        return data if self._redactor is None else self._redactor.data(data)

    def _scrub_error(self, body: Any) -> Any:
        return body if self._redactor is None else self._redactor.error_body(body)

    @property
    def _error_scrub(self) -> Callable[[str], str] | None:
        return None if self._redactor is None else self._redactor.error_text

    def _scrub_text(self, text: str) -> str:
        return text if self._redactor is None else self._redactor.error_text(text)

    # -- transport -----------------------------------------------------------
    async def _send(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        *,
        stream: bool,
        on_retry: RetryCallback | None = None,
    ) -> httpx.Response:
        """Send with retries (connect errors, 429, 502-504); return a 2xx response."""
        url = self.base_url + path
        headers = {"Accept": "text/event-stream"} if stream else {}
        notify = on_retry or self.on_retry
        attempt = 0
        while True:
            request = self._http.build_request(method, url, json=body, headers=headers)
            try:
                response = await self._http.send(request, stream=True)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                reason = f"could not connect to {self.base_url} ({type(exc).__name__})"
                if attempt >= self.max_retries:
                    raise ConnectError(reason) from None
                delay = backoff_delay(attempt)
            except httpx.TimeoutException as exc:
                raise TimeoutError(
                    f"{self.base_url} did not answer in time ({type(exc).__name__})"
                ) from None
            except httpx.TransportError as exc:
                said = str(exc) or "the connection failed, with no reason given"
                reason = self._scrub_text(f"{self.base_url}: {type(exc).__name__}: {said}")
                raise ConnectError(reason) from None
            else:
                if response.is_success:
                    if not stream:
                        await response.aread()
                    return response
                content = self._scrub_error(await response.aread())
                await response.aclose()
                error = api_error(
                    response.status_code,
                    content,
                    self._scrub_error(dict(response.headers)),
                    self._error_scrub,
                )
                if attempt >= self.max_retries or not should_retry(
                    response.status_code, response.headers, error.message
                ):
                    raise error
                delay = backoff_delay(attempt, response.headers)
                reason = error.brief
            attempt += 1
            if notify is not None:
                notify(RetryNotice(attempt, self.max_retries, delay, reason))
            await asyncio.sleep(delay)
