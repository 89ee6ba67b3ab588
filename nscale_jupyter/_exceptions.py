"""The one exception tree of nscale-jupyter.

```
NscaleError
├── ConfigError                 no key, a refused base URL, a bad option value
├── BudgetError                 a request would pass the classroom budget (nothing sent)
├── CassetteError               a cassette has no recording of a request it must replay
├── ImageError                  an image that cannot be sent (no file, unknown format)
├── TranscriptError             a transcript file that cannot be read back (also a ValueError)
├── TransportError              nothing usable came back
│   ├── ConnectError            could not connect
│   └── TimeoutError            connect, read or pool timeout
├── APIError                    the server answered with an error status
│   ├── BadRequestError         400 (validation, context too long)
│   ├── AuthenticationError     401 / 403
│   ├── NotFoundError           404 (unknown model or path)
│   ├── UnprocessableError      422
│   ├── RateLimitError          429 (``retry_after``; ``insufficient_credit``)
│   └── ServerError             5xx
└── StreamError                 a stream broke after it began (carries ``partial``)
    ├── StreamInterrupted       dropped connection, or EOF without ``[DONE]``
    └── InStreamError           an ``{"error": ...}`` event inside a 200 stream
```

Messages never contain the API key: the client builds them from the
server's status and message only, and scrubs what the server sent (body,
headers, in-stream errors) of the key first (``nscale_jupyter._redact``);
``scrub`` below is applied once more to the parsed texts, for a key the
server hid behind JSON escapes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from ._results import ChatResult

Scrub = Callable[[str], str]

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "BudgetError",
    "CassetteError",
    "ConfigError",
    "ConnectError",
    "ImageError",
    "InStreamError",
    "NotFoundError",
    "NscaleError",
    "RateLimitError",
    "ServerError",
    "StreamError",
    "StreamInterrupted",
    "TimeoutError",
    "TranscriptError",
    "TransportError",
    "UnprocessableError",
]


class NscaleError(Exception):
    """Base of every error this package raises."""


class ConfigError(NscaleError):
    """The client is not set up to send this request (no key, refused URL)."""


class BudgetError(NscaleError):
    """A request would pass ``ChatSettings.budget_tokens`` / ``budget_cost``: it was not sent."""


class CassetteError(NscaleError):
    """A cassette cannot answer: no recording of the request (replay mode), or a bad file."""


class ImageError(NscaleError, ValueError):
    """An image source that cannot be sent: a missing file, an unknown format, another type."""


class TranscriptError(NscaleError, ValueError):
    """A transcript (``%chat import``) that is not one, or names a bad value; nothing loaded."""


class TransportError(NscaleError):
    """No usable HTTP response arrived."""


class ConnectError(TransportError):
    """The server could not be reached."""


class TimeoutError(TransportError):
    """The server did not answer in time."""


class APIError(NscaleError):
    """The server answered with a non-2xx status."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        type: str | None = None,
        param: str | None = None,
        code: int | str | None = None,
        body: object = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.type = type
        self.param = param
        self.code = code
        self.body = body

    #: What to do about it, added to the message.
    hint = ""

    @property
    def brief(self) -> str:
        """Status and message, the status said once: "429 slow down", "502 Bad Gateway"."""
        return self.message if self._says_status else f"{self.status_code} {self.message}"

    @property
    def _says_status(self) -> bool:
        return self.message.startswith(str(self.status_code))  # a gateway page's title

    def __str__(self) -> str:
        if self._says_status:
            head = self.message
        else:
            head = f"{self.status_code} {self.type or 'error'}: {self.message}"
        return f"{head} - {self.hint}" if self.hint else head


class BadRequestError(APIError):
    """400: the server rejected the request (bad value, prompt too long...)."""


class AuthenticationError(APIError):
    """401/403: the key is missing or wrong."""

    hint = "set NSCALE_API_KEY to a valid nscale key (or pass api_key=...)."


class NotFoundError(APIError):
    """404: unknown model (or path)."""

    hint = "check the model name against the server's list (%chat models, or models())."


class UnprocessableError(APIError):
    """422: the request was understood but not accepted."""


class RateLimitError(APIError):
    """429: too many requests, or no credit left."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after
        self.hint = (
            "add credit to the account, then try again."
            if self.insufficient_credit
            else "too many requests: wait a moment and try again."
        )

    @property
    def insufficient_credit(self) -> bool:
        text = self.message.lower()
        return "credit" in text or "quota" in text


class ServerError(APIError):
    """5xx: the server or a gateway failed."""

    hint = "the server failed (already retried where safe); try again in a moment."


class StreamError(NscaleError):
    """A stream failed after it began; ``partial`` holds what had arrived."""

    def __init__(self, message: str, partial: ChatResult | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.partial = partial


class StreamInterrupted(StreamError):
    """The connection dropped, or the stream ended without ``[DONE]``."""


class InStreamError(StreamError):
    """The server sent an error event inside a successful (200) stream."""

    def __init__(
        self,
        message: str,
        partial: ChatResult | None = None,
        *,
        type: str | None = None,
        code: int | str | None = None,
    ) -> None:
        super().__init__(message, partial)
        self.type = type
        self.code = code


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    422: UnprocessableError,
    429: RateLimitError,
}


def error_class_for(status: int) -> type[APIError]:
    """The APIError subclass for an HTTP status."""
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, APIError)


def parse_error_body(
    body: bytes | str | object, scrub: Scrub | None = None
) -> tuple[str | None, str, str | None, int | str | None]:
    """Normalise any error body to ``(type, message, param, code)``.

    Accepts ``{"error": {...}}``, era-A ``{"object": "error", ...}``,
    ``{"error": "Unauthorized"}``, ``{"detail": ...}``, other JSON, text or HTML.
    ``scrub`` (the key's redactor) is applied to each text returned.
    """
    type_, message, param, code = _parse_error_body(body)
    if scrub is None:
        return type_, message, param, code
    return (
        None if type_ is None else scrub(type_),
        scrub(message),
        None if param is None else scrub(param),
        scrub(code) if isinstance(code, str) else code,
    )


def _parse_error_body(
    body: bytes | str | object,
) -> tuple[str | None, str, str | None, int | str | None]:
    import json

    data: object = body
    if isinstance(body, bytes | str):
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            return None, _clip(text.strip()) or "(empty response)", None, None
    if not isinstance(data, dict):
        return None, _clip(str(data)), None, None
    e = data.get("error", data)
    if isinstance(e, str):
        return None, e, None, None
    if not isinstance(e, dict):
        return None, _clip(str(data)), None, None
    message = e.get("message") or e.get("detail") or data.get("detail")
    if not isinstance(message, str):
        message = _clip(json.dumps(message if message is not None else data))
    param = e.get("param")
    code = e.get("code")
    return (
        e.get("type") if isinstance(e.get("type"), str) else None,
        message,
        param if isinstance(param, str) else None,
        code if isinstance(code, int | str) else None,
    )


def _clip(text: str, limit: int = 300) -> str:
    """A gateway's HTML page is not a message: keep it short."""
    if text.lstrip().lower().startswith(("<!doctype", "<html")):
        import re

        title = re.search(r"<title>(.*?)</title>", text, re.I | re.S)
        text = title.group(1).strip() if title else "HTML error page"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def api_error(
    status: int,
    body: bytes | str | object,
    headers: dict[str, str] | None = None,
    scrub: Scrub | None = None,
) -> APIError:
    """Build the right APIError for a non-2xx response (its texts passed through ``scrub``)."""
    type_, message, param, code = parse_error_body(body, scrub)
    kw: dict[str, object] = {
        "status_code": status,
        "type": type_,
        "param": param,
        "code": code,
        "body": body,
    }
    cls = error_class_for(status)
    if cls is RateLimitError:
        from ._retry import retry_after

        return RateLimitError(message, retry_after=retry_after(headers or {}), **kw)
    return cls(message, **kw)  # type: ignore[arg-type]
