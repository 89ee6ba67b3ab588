"""Where the key and the base URL come from, and the secret that hides the key."""

from __future__ import annotations

import ipaddress
import os
from urllib.parse import urlsplit

from ._exceptions import ConfigError

__all__ = ["DEFAULT_BASE_URL", "Secret", "is_loopback_url", "resolve_api_key", "resolve_base_url"]

DEFAULT_BASE_URL = "https://inference.api.nscale.com/v1"


class Secret:
    """Holds the API key; its repr, str and pickled state never show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("an API key is not picklable")


def resolve_base_url(base_url: str | None = None) -> str:
    """The argument, else ``NSCALE_BASE_URL``, else nscale's; no trailing slash."""
    url = (base_url or os.environ.get("NSCALE_BASE_URL") or DEFAULT_BASE_URL).strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"the base URL {url!r} is not an http(s) URL, e.g. {DEFAULT_BASE_URL} "
            "(NSCALE_BASE_URL or %config ChatSettings.base_url)"
        )
    return url.rstrip("/")


def resolve_api_key(api_key: str | Secret | None = None) -> Secret | None:
    """The argument, else ``NSCALE_API_KEY``; ``None`` when neither is set."""
    if isinstance(api_key, Secret):
        return api_key or None
    value = api_key or os.environ.get("NSCALE_API_KEY") or ""
    return Secret(value.strip()) if value.strip() else None


def is_loopback_url(url: str) -> bool:
    """True for http(s) URLs whose host is localhost or a loopback address."""
    host = (urlsplit(url).hostname or "").strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
