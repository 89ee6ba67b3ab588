"""Prompt logprobs: how surprising each prompt token was to the model (pure).

vLLM's ``prompt_logprobs=K`` extra (non-streamed requests only) adds a
top-level ``prompt_logprobs`` list to the response: ``null`` for the first
prompt token, then per token a map ``{"<token id>": {"logprob", "rank",
"decoded_token"}}``. vLLM 0.32 builds each map with the prompt token's own
id first, then the top K (``vllm/logprobs.py``,
``append_logprobs_for_next_position``), so the first key is the token that
was actually in the prompt; when it is also among the top K it appears once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._results import NEG_INF_SENTINEL, LazySequence, TopLogprob

__all__ = ["PromptLogprob", "PromptLogprobs"]


@dataclass(frozen=True, slots=True)
class PromptLogprob:
    """One prompt token and how likely the model found it, given the tokens before it.

    ``logprob`` and ``rank`` are ``None`` for the first token: nothing comes
    before it, so the model never predicted it (its text is unknown too,
    since vLLM sends ``null`` there). ``top`` holds what the server sent,
    most likely first: the top K alternatives, plus the prompt token itself
    when it ranked below them.
    """

    position: int
    token: str
    token_id: int | None = None
    logprob: float | None = None
    rank: int | None = None
    top: tuple[TopLogprob, ...] = ()

    @property
    def prob(self) -> float | None:
        """The probability; ``None`` for the first token, 0 for minus infinity."""
        if self.logprob is None:
            return None
        return 0.0 if self.logprob <= NEG_INF_SENTINEL else math.exp(self.logprob)

    @property
    def surprisal(self) -> float | None:
        """``-logprob`` in nats: 0 when the model was sure, large when surprised."""
        if self.logprob is None:
            return None
        return math.inf if self.logprob <= NEG_INF_SENTINEL else -self.logprob


def _entry(position: int, data: Any, token_id: int | None) -> PromptLogprob:
    if not isinstance(data, Mapping) or not data:
        return PromptLogprob(position, "", token_id)
    top: list[tuple[int, float, TopLogprob]] = []
    own: tuple[str, int | None, float, int | None] | None = None
    for key, value in data.items():
        if not isinstance(value, Mapping):
            continue
        try:
            tid: int | None = int(key)
        except (TypeError, ValueError):
            tid = None
        text = value.get("decoded_token") or ""
        logprob = float(value.get("logprob", NEG_INF_SENTINEL))
        rank = value.get("rank")
        rank = rank if isinstance(rank, int) else None
        if own is None:  # vLLM puts the prompt's own token first
            own = (text, tid, logprob, rank)
        top.append((rank if rank is not None else 1 << 62, -logprob, TopLogprob(text, logprob)))
    if own is None:
        return PromptLogprob(position, "", token_id)
    text, tid, logprob, rank = own
    tid = tid if tid is not None else token_id
    top.sort(key=lambda t: (t[1], t[0]))
    return PromptLogprob(position, text, tid, logprob, rank, tuple(t[2] for t in top))


class PromptLogprobs(LazySequence[PromptLogprob]):
    """One :class:`PromptLogprob` per prompt token, built from the JSON on first access.

    ``len()`` is known at once (it equals ``usage.prompt_tokens``); the
    objects are made only when someone looks. ``raw`` keeps the JSON as sent.
    """

    __slots__ = ("_token_ids", "raw")

    def __init__(self, raw: Sequence[Any] = (), token_ids: Sequence[int] | None = None) -> None:
        super().__init__()
        self.raw = raw
        self._token_ids = token_ids

    @classmethod
    def from_json(cls, raw: Any, token_ids: Any = None) -> PromptLogprobs | None:
        """``None`` unless ``raw`` is a list (the server sends ``null`` when not asked)."""
        if isinstance(raw, PromptLogprobs):
            return raw
        if not isinstance(raw, list | tuple):
            return None
        ids = token_ids if isinstance(token_ids, list) and len(token_ids) == len(raw) else None
        return cls(raw, ids)

    def _build(self) -> Iterable[PromptLogprob]:
        ids: Sequence[int | None] = self._token_ids or [None] * len(self.raw)
        return (_entry(i, d, ids[i]) for i, d in enumerate(self.raw))

    def __len__(self) -> int:
        return len(self.raw)
