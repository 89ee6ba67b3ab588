"""Compare: one request once per value of a field, as turns of the turn engine (session layer)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._options import EXTRAS, OptionError, option
from ._results import ChatResult
from ._session import refuses_stream
from ._types import ChatRequest

if TYPE_CHECKING:
    from ._session import Session
    from ._turn import TurnSpec

__all__ = [
    "Comparison",
    "Departure",
    "Divergence",
    "divergence",
    "parse_values",
    "run_compare",
    "with_value",
]

#: The most values one comparison takes (a range could ask for millions).
MAX_VALUES = 64

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
    """``temperature=0,0.7,1.5`` -> ("temperature", [0.0, 0.7, 1.5]), validated.

    A whole-number field also takes inclusive ranges: ``seed=1..8``, ``seed=1..3,10``.
    """
    name, eq, text = spec.partition("=")
    if not eq or not text.strip():
        raise OptionError("compare: expected FIELD=V1,V2,... e.g. temperature=0,0.7,1.5")
    opt = option(name)
    if opt.name in _NOT_COMPARED:
        raise OptionError(f"compare: {opt.name} cannot be compared; compare a sampling option")
    values: list[Any] = []
    for item in (v.strip() for v in text.split(",")):
        low, dots, high = item.partition("..")
        if not dots:
            values.extend([opt.parse(item)] if item else [])
            continue
        if opt.kind != "int":
            raise OptionError(f"compare: a range A..B needs a whole-number field, not {opt.flag}")
        first, last = opt.parse(low), opt.parse(high)
        if last < first:
            raise OptionError(f"compare: the range {item} is empty (write the smaller first)")
        values.extend(range(first, last + 1))
        if len(values) > MAX_VALUES:
            raise OptionError(f"compare: at most {MAX_VALUES} values")
    if len(values) < 2:
        raise OptionError("compare: give at least two values")
    return opt.name, values


@dataclass(frozen=True)
class Departure:
    """Where one value's answer first differs from the first value's answer."""

    value: Any
    answer: int  # which distinct answer it gave (0: the first value's)
    position: int | None  # the token (or character) where it departs; None: no departure
    piece: str | None = None  # its token (or character) there; None: its answer ended
    first: str | None = None  # the first answer's token (or character) there


@dataclass(frozen=True)
class Divergence:
    """How the answers of a comparison differ (``%chat compare seed=1..8``)."""

    field: str
    distinct: int
    total: int
    unit: str  # "token" (every answer has logprobs) or "character"
    rows: tuple[Departure, ...]


def _pieces(result: ChatResult | None, tokens: bool) -> list[str]:
    if result is None:
        return []
    return [t.token for t in result.logprobs or ()] if tokens else list(result.text)


def divergence(comparisons: Sequence[Comparison]) -> Divergence | None:
    """Distinct answers, and where each departs from the first value's (None if none ran)."""
    done = [c for c in comparisons if c.result is not None]
    if not done:
        return None
    tokens = all(c.result is not None and c.result.logprobs for c in done)
    reference = _pieces(done[0].result, tokens)
    answers: list[str] = []
    rows = []
    for c in done:
        text = c.result.text if c.result is not None else ""
        if text not in answers:
            answers.append(text)
        pieces = _pieces(c.result, tokens)
        pairs = zip(pieces, reference, strict=False)
        at = next((i for i, (a, b) in enumerate(pairs) if a != b), None)
        if at is None and len(pieces) != len(reference):
            at = min(len(pieces), len(reference))
        rows.append(
            Departure(
                c.value,
                answers.index(text),
                at,
                pieces[at] if at is not None and at < len(pieces) else None,
                reference[at] if at is not None and at < len(reference) else None,
            )
        )
    unit = "token" if tokens else "character"
    return Divergence(done[0].field, len(answers), len(done), unit, tuple(rows))


def with_value(request: ChatRequest, name: str, value: Any) -> ChatRequest:
    """The request with one field set (vLLM extras go into ``extra``)."""
    if name in EXTRAS:
        extra = {**request.extra, name: value}
        return request.replace(extra=extra, stream=request.stream and not refuses_stream(extra))
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
