"""Run one request once per value of a field, concurrently with a bound (session layer)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._exceptions import NscaleError
from ._options import OPTIONS, OptionError, option
from ._types import ChatRequest, ChatResult

if TYPE_CHECKING:  # httpx loads with the first request
    from ._client import AsyncClient
    from ._session import Session

__all__ = ["Comparison", "parse_values", "run_compare", "run_compare_in", "with_value"]

_EXTRAS = frozenset(o.name for o in OPTIONS if o.extra)


@dataclass(frozen=True)
class Comparison:
    """One value's outcome: a result, or the error that ended it."""

    field: str
    value: Any
    result: ChatResult | None
    error: str | None = None


def parse_values(spec: str) -> tuple[str, list[Any]]:
    """``temperature=0,0.7,1.5`` -> ("temperature", [0.0, 0.7, 1.5]), validated."""
    name, eq, text = spec.partition("=")
    if not eq or not text.strip():
        raise OptionError("compare: expected FIELD=V1,V2,... e.g. temperature=0,0.7,1.5")
    opt = option(name)
    values = [opt.parse(v) for v in text.split(",") if v.strip()]
    if len(values) < 2:
        raise OptionError("compare: give at least two values")
    return opt.name, values


def with_value(request: ChatRequest, name: str, value: Any) -> ChatRequest:
    """The request with one field set (vLLM extras go into ``extra``)."""
    if name in _EXTRAS:
        return request.replace(extra={**request.extra, name: value})
    if name == "top_logprobs" and value:
        return request.replace(top_logprobs=value, logprobs=True)
    return request.replace(**{name: value})


async def run_compare(
    client: AsyncClient,
    request: ChatRequest,
    name: str,
    values: Sequence[Any],
    *,
    concurrency: int = 4,
) -> list[Comparison]:
    """Send one request per value, at most ``concurrency`` at a time, in value order."""
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(value: Any) -> Comparison:
        async with gate:
            try:
                result = await client.chat(with_value(request, name, value))
            except NscaleError as exc:
                return Comparison(name, value, getattr(exc, "partial", None), str(exc))
            return Comparison(name, value, result)

    return list(await asyncio.gather(*(one(v) for v in values)))


async def run_compare_in(
    session: Session,
    request: ChatRequest,
    name: str,
    values: Sequence[Any],
    *,
    concurrency: int = 4,
) -> list[Comparison]:
    """:func:`run_compare` with the session's client (run it on the session loop)."""
    client = await session._aclient()
    return await run_compare(client, request, name, values, concurrency=concurrency)
