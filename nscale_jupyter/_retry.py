"""Retry policy: which failures are retried, and how long to wait (pure)."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["RETRY_STATUSES", "RetryNotice", "backoff_delay", "retry_after", "should_retry"]

#: Statuses worth another try: rate limits and gateway/overload failures.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: A server asking for a longer wait than this is not retried.
MAX_RETRY_AFTER = 120.0


@dataclass(frozen=True, slots=True)
class RetryNotice:
    """Told to ``on_retry`` before each wait, so a user sees why nothing happens."""

    attempt: int  # 1 for the first retry
    max_retries: int
    delay: float
    reason: str


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """The wait the server asks for (``retry-after-ms`` or ``Retry-After``), in seconds."""
    lowered = {k.lower(): v for k, v in headers.items()}
    value = lowered.get("retry-after-ms")
    if value is not None:
        try:
            return float(value) / 1000
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return None
    when = email.utils.mktime_tz(parsed)
    return max(0.0, when - (time.time() if now is None else now))


def should_retry(status: int, headers: Mapping[str, str], message: str = "") -> bool:
    """Whether a response with this status is worth retrying."""
    lowered = {k.lower(): v for k, v in headers.items()}
    explicit = lowered.get("x-should-retry", "").lower()
    if explicit in ("true", "false"):
        return explicit == "true"
    if status not in RETRY_STATUSES:
        return False
    if status == 429 and any(w in message.lower() for w in ("credit", "quota")):
        return False
    asked = retry_after(headers)
    return asked is None or asked <= MAX_RETRY_AFTER


def backoff_delay(attempt: int, headers: Mapping[str, str] | None = None) -> float:
    """Seconds before retry ``attempt`` (0-based).

    The server's ask when it gave one, else 0.5 s * 2^attempt (at most 8 s)
    less up to 25% jitter.
    """
    asked = retry_after(headers or {})
    if asked is not None and 0 < asked <= MAX_RETRY_AFTER:
        return asked
    delay = min(0.5 * 2**attempt, 8.0)
    return float(delay * (1 - 0.25 * random.random()))
