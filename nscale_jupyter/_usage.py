"""The usage meter, prices and the classroom budget: session accounting, no I/O.

The turn engine adds every answer here as its round ends (one place for
every face), live and replayed apart; the budget is checked before each
request is sent, and counts live answers only (replayed ones cost nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ._exceptions import BudgetError
from ._provenance import canonical_json
from ._results import ChatResult, Model, Usage
from ._types import ChatRequest

__all__ = [
    "Tally",
    "UsageMeter",
    "account",
    "check_budget",
    "cost_of",
    "estimate_tokens",
    "price_for",
]

#: A one-off turn (no thread) is counted under this name.
ONE_OFF = "(one-off)"
Price = tuple[float, float]  # per million input (prompt) and output (completion) tokens


@dataclass
class Tally:
    """Requests and tokens (as the server counted them) of one thread, live or replayed."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost: float = 0.0
    #: Requests whose usage the server did not send (cut off, or usage not asked for).
    unmetered: int = 0

    def add(self, usage: Usage | None, cost: float | None) -> None:
        self.requests += 1
        if usage is None or (usage.total_tokens is None and usage.prompt_tokens is None):
            self.unmetered += 1
            return
        self.prompt_tokens += usage.prompt_tokens or 0
        self.completion_tokens += usage.completion_tokens or 0
        self.total_tokens += (
            usage.total_tokens
            if usage.total_tokens is not None
            else (usage.prompt_tokens or 0) + (usage.completion_tokens or 0)
        )
        self.cost += cost or 0.0

    def merge(self, other: Tally) -> None:
        for name in ("requests", "prompt_tokens", "completion_tokens", "total_tokens"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.cost += other.cost
        self.unmetered += other.unmetered


class UsageMeter:
    """Per thread, live and replayed: what the session's answers used."""

    def __init__(self) -> None:
        self.tallies: dict[tuple[str, str], Tally] = {}  # (thread, "live" | "replayed")

    def add(self, thread: str | None, result: ChatResult, cost: float | None) -> None:
        prov = result.provenance
        source = "replayed" if prov is not None and prov.replayed else "live"
        key = (thread or ONE_OFF, source)
        self.tallies.setdefault(key, Tally()).add(result.usage, cost)

    def total(self, source: str | None = None) -> Tally:
        out = Tally()
        for (_, src), tally in self.tallies.items():
            if source is None or src == source:
                out.merge(tally)
        return out

    def reset(self) -> None:
        self.tallies.clear()

    def report(self, *, priced: bool = False) -> str:
        """The ``%chat usage`` table: one row per thread and source, then the session."""
        head = ["thread", "source", "requests", "prompt", "completion", "total"]
        if priced:
            head.append("cost")
        rows = [head]

        def row(name: str, source: str, t: Tally) -> list[str]:
            cells = [name, source, str(t.requests), str(t.prompt_tokens)]
            cells += [str(t.completion_tokens), str(t.total_tokens)]
            return cells + ([f"{t.cost:.6f}"] if priced else [])

        for (thread, source), tally in sorted(self.tallies.items()):
            rows.append(row(thread, source, tally))
        for source in ("live", "replayed"):
            rows.append(row("session", source, self.total(source)))
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
        unmetered = self.total().unmetered
        if unmetered:
            lines.append(f"{unmetered} request(s) without usage from the server (not counted)")
        return "\n".join(line.rstrip() for line in lines)


def price_from_models(models: Sequence[Model], model: str) -> Price | None:
    """A price a server lists for ``model`` in ``GET /models``.

    Read from ``pricing`` (or ``price``): ``[input, output]`` or
    ``{"input": ..., "output": ...}``, per million tokens.
    """
    for m in models:
        if m.id != model or not isinstance(m.raw, Mapping):
            continue
        listed = m.raw.get("pricing", m.raw.get("price"))
        return _price(listed)
    return None


def _price(value: Any) -> Price | None:
    try:
        if isinstance(value, Mapping):
            return float(value["input"]), float(value["output"])
        if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
            return float(value[0]), float(value[1])
    except (KeyError, TypeError, ValueError):
        return None
    return None


def price_for(
    prices: Mapping[str, Any], models: Sequence[Model], model: str | None
) -> Price | None:
    """``ChatSettings.prices`` for the model asked for, else what the server lists."""
    if model is None:
        return None
    price = _price(prices.get(model))
    return price if price is not None else price_from_models(models, model)


def account(
    meter: UsageMeter,
    thread: str | None,
    result: ChatResult,
    price: Callable[[str | None], Price | None],
) -> ChatResult:
    """Count an answer; with a price, its provenance gets its cost.

    A replayed answer shows the cost it had when recorded (the same output)
    and is counted apart: the budget counts live answers only.
    """
    prov = result.provenance
    cost = cost_of(result.usage, price(prov.model if prov is not None else None))
    meter.add(thread, result, cost)
    if prov is not None and cost is not None:
        result = replace(result, provenance=replace(prov, cost=cost))
    return result


def cost_of(usage: Usage | None, price: Price | None) -> float | None:
    """What an answer cost at ``price`` (None: no price, or no usage)."""
    if price is None or usage is None or usage.prompt_tokens is None:
        return None
    return (usage.prompt_tokens * price[0] + (usage.completion_tokens or 0) * price[1]) / 1e6


def estimate_tokens(request: ChatRequest) -> tuple[int, int]:
    """(prompt tokens, most completion tokens) a request may use: a byte count over 4
    for the prompt (messages and tools, no tokenizer), plus ``max_tokens`` per choice."""
    body = request.to_json()
    prompt = len(canonical_json([body.get("messages"), body.get("tools")]).encode()) // 4 + 1
    most = request.max_completion_tokens or request.max_tokens or 0
    return prompt, most * (request.n or 1)


def check_budget(
    request: ChatRequest,
    spent: Tally,
    budget_tokens: int | None,
    budget_cost: float | None,
    price: Price | None,
) -> None:
    """Refuse (BudgetError, one line) a request that could pass the budget."""
    prompt, most = estimate_tokens(request)
    if budget_tokens is not None and spent.total_tokens + prompt + most > budget_tokens:
        raise BudgetError(
            f"token budget: {spent.total_tokens} of {budget_tokens} spent and this request "
            f"could use {prompt + most} (prompt ~{prompt} + max_tokens {most}); not sent. "
            "Raise it with %config ChatSettings.budget_tokens = N (or ask for fewer --max-tokens)"
        )
    if budget_cost is not None and price is not None:
        could = (prompt * price[0] + most * price[1]) / 1e6
        if spent.cost + could > budget_cost:
            raise BudgetError(
                f"cost budget: {spent.cost:.6f} of {budget_cost:g} spent and this request "
                f"could cost {could:.6f}; not sent. "
                "Raise it with %config ChatSettings.budget_cost = X (or fewer --max-tokens)"
            )
