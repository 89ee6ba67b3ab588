"""Compare: one request once per value of a field, as turns of the turn engine (session layer)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._options import EXTRAS, OptionError, option
from ._results import ChatResult
from ._types import ChatRequest

if TYPE_CHECKING:
    from ._session import Session
    from ._turn import TurnSpec

__all__ = ["Comparison", "parse_values", "run_compare", "with_value"]

#: Fields whose values are not one per request (the tools offered are a list of schemas).
_NOT_COMPARED = frozenset({"tools"})


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
    if opt.name in _NOT_COMPARED:
        raise OptionError(f"compare: {opt.name} cannot be compared; compare a sampling option")
    values = [opt.parse(v) for v in text.split(",") if v.strip()]
    if len(values) < 2:
        raise OptionError("compare: give at least two values")
    return opt.name, values


def with_value(request: ChatRequest, name: str, value: Any) -> ChatRequest:
    """The request with one field set (vLLM extras go into ``extra``)."""
    if name in EXTRAS:
        return request.replace(extra={**request.extra, name: value})
    if name == "top_logprobs" and value:
        return request.replace(top_logprobs=value, logprobs=True)
    return request.replace(**{name: value})


async def run_compare(
    session: Session,
    base: ChatRequest | TurnSpec,
    name: str,
    values: Sequence[Any],
    *,
    concurrency: int = 4,
) -> list[Comparison]:
    """One turn per value (nothing recorded, tools shown not run), at most
    ``concurrency`` at a time, in value order. Runs on the session loop."""
    from ._turn import Turn, TurnSpec

    spec = TurnSpec(record=False, run_tools=False)
    request = await session.turn(base).first_request() if isinstance(base, TurnSpec) else base
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(value: Any) -> Comparison:
        async with gate:
            turn = Turn(session, spec, request=with_value(request, name, value))
            await turn.drive(lambda _: None)
            outcome = turn.outcome
            assert outcome is not None
            error = str(outcome.error) if outcome.error is not None else None
            return Comparison(name, value, outcome.result, error)

    return list(await asyncio.gather(*(one(v) for v in values)))
