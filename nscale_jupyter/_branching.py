"""Branching a reply: continue it from one position with another token (pure, no I/O).

``result.branch(position, alternative)`` asks the server to go on from the
reply's first ``position`` tokens followed by the chosen alternative instead
of the sampled token. The request is the original one (same model and
options), its messages plus a final assistant message holding that prefix,
with vLLM's ``continue_final_message: true`` and ``add_generation_prompt:
false``: the model continues the message rather than starting a new one.
The turn engine sends it (``_api.branch``); this module builds it and holds
the :class:`Branch` it gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ._exceptions import APIError, NscaleError
from ._results import NEG_INF_SENTINEL, ChatResult, TokenLogprob, TopLogprob
from ._sampling import most_uncertain
from ._types import ChatRequest, Message

__all__ = [
    "CONTINUE",
    "Branch",
    "BranchError",
    "BranchPoint",
    "alternatives",
    "branch_point",
    "branch_request",
    "refused",
]

#: The vLLM extras that make the model continue the final (assistant) message.
CONTINUE = {"continue_final_message": True, "add_generation_prompt": False}


class BranchError(NscaleError, ValueError):
    """A branch that cannot be made: no logprobs, a bad position, a server that refuses."""


def alternatives(entry: TokenLogprob) -> list[TopLogprob]:
    """The alternatives at one position, most likely first (the sampled token included)."""
    alts = {t.token: t for t in entry.top_logprobs if t.logprob > NEG_INF_SENTINEL}
    if entry.token not in alts and entry.logprob > NEG_INF_SENTINEL:
        alts[entry.token] = TopLogprob(entry.token, entry.logprob, entry.bytes)
    return sorted(alts.values(), key=lambda t: t.logprob, reverse=True)


def least_sure(entries: Sequence[TokenLogprob]) -> int:
    """The position with the highest entropy of its alternatives (where sampling matters)."""
    return most_uncertain([[t.logprob for t in alternatives(e)] for e in entries])


@dataclass(frozen=True)
class BranchPoint:
    """Where a branch leaves the reply and with which token."""

    position: int
    token: str  # the alternative taken
    logprob: float  # its log-probability there
    replaced: str  # the token the reply sampled there
    prefix: str  # the reply's text before the position

    @property
    def text(self) -> str:
        """What the branch's assistant message starts with: the prefix and the token."""
        return self.prefix + self.token


def branch_point(
    result: ChatResult, position: int | None = None, alternative: int | str = 1
) -> BranchPoint:
    """The branch point: ``alternative`` is a rank among the position's alternatives
    (0 = the most likely) or a token's text; ``position`` defaults to the least sure."""
    entries = list(result.logprobs or ())
    if not entries or not any(e.top_logprobs for e in entries):
        raise BranchError("branch: the reply has no alternatives (ask with --top-logprobs K)")
    if result.request is None:
        raise BranchError("branch: the reply has no request to continue (run it as a turn)")
    if position is None:
        position = least_sure(entries)
    if not 0 <= position < len(entries):
        raise BranchError(f"branch: position {position} is outside 0..{len(entries) - 1}")
    entry = entries[position]
    alts = alternatives(entry)
    shown = ", ".join(f"{i}: {t.token!r}" for i, t in enumerate(alts))
    if isinstance(alternative, str):
        chosen = next((t for t in alts if t.token == alternative), None)
    else:
        chosen = alts[alternative] if 0 <= alternative < len(alts) else None
    if chosen is None:
        raise BranchError(f"branch: no alternative {alternative!r} at {position}; it has {shown}")
    prefix = "".join(e.token for e in entries[:position])
    return BranchPoint(position, chosen.token, chosen.logprob, entry.token, prefix)


def branch_request(result: ChatResult, point: BranchPoint) -> ChatRequest:
    """The original request, continuing an assistant message that holds the branch's start."""
    request = result.request
    if request is None:
        raise BranchError("branch: the reply has no request to continue")
    messages = (*request.messages, Message.assistant(point.text))
    return request.replace(messages=messages, extra={**request.extra, **CONTINUE})


def refused(error: NscaleError) -> BranchError:
    """One line naming why a branch failed (a server that cannot continue a message)."""
    if isinstance(error, APIError) and error.status_code in (400, 422):
        return BranchError(
            "branch: the server cannot continue a message (vLLM's continue_final_message "
            f"was refused): {error.message}"
        )
    return BranchError(f"branch: {error}")


@dataclass(frozen=True)
class Branch:
    """The original reply and the branch taken from it; shows them side by side."""

    original: ChatResult
    point: BranchPoint
    #: The continuation the server gave (its text follows ``point.text``).
    result: ChatResult

    @property
    def text(self) -> str:
        """The branch's whole reply: the prefix, the alternative, the continuation."""
        return self.point.text + self.result.text

    @property
    def tokens(self) -> tuple[str, ...]:
        """The branch's tokens: the original's up to the position, the alternative, then
        the continuation's (when it has logprobs)."""
        before = [e.token for e in (self.original.logprobs or ())][: self.point.position]
        after = [e.token for e in (self.result.logprobs or ())]
        return (*before, self.point.token, *after)

    def __repr__(self) -> str:
        p = self.point
        return f"<Branch at {p.position}: {p.replaced!r} -> {p.token!r} text={self.text!r:.80}>"

    def _repr_html_(self) -> str:
        from .display import branch_html

        return branch_html(self)
