"""How an answer was made: the canonical request, its hash, and the answer's provenance. Pure.

The same canonical body keys a cassette's recordings and names the request
in an answer's provenance, so a saved notebook and its cassette agree.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._results import ChatResult

__all__ = ["Provenance", "canonical_json", "first_difference", "provenance_of", "request_hash"]


def canonical_json(body: Any) -> str:
    """The body as one stable line: sorted keys, no spaces, Unicode kept."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def request_hash(body: Any) -> str:
    """A short stable name of a request body (16 hex digits of its SHA-256)."""
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Provenance:
    """How one answer was made: what was asked, what came back, where from.

    ``cassette`` is ``"hit"`` (replayed from a cassette), ``"miss"`` (sent
    live and recorded) or None (no cassette).
    """

    model: str | None  # the model asked for
    options: Mapping[str, Any]  # every field sent but the messages (tools by name)
    request_hash: str
    served_model: str | None = None
    usage: Mapping[str, Any] | None = None
    finish_reason: str | None = None
    system_fingerprint: str | None = None
    response_id: str | None = None
    cassette: str | None = None
    cost: float | None = field(default=None)

    @property
    def replayed(self) -> bool:
        return self.cassette == "hit"

    def to_json(self) -> dict[str, Any]:
        """For a notebook output's metadata (``{"nscale": ...}``)."""
        out: dict[str, Any] = {
            "model": self.model,
            "served_model": self.served_model,
            "options": dict(self.options),
            "usage": dict(self.usage) if self.usage is not None else None,
            "finish_reason": self.finish_reason,
            "system_fingerprint": self.system_fingerprint,
            "response_id": self.response_id,
            "request_hash": self.request_hash,
            "source": "replayed" if self.replayed else "live",
            "cassette": self.cassette,
        }
        if self.cost is not None:
            out["cost"] = self.cost
        return out


def provenance_of(
    body: Mapping[str, Any], result: ChatResult, cassette: str | None = None
) -> Provenance:
    """The provenance of ``result``, the answer to the request ``body``."""
    options = {k: v for k, v in body.items() if k != "messages"}
    if isinstance(options.get("tools"), list):
        options["tools"] = [
            (t.get("function") or {}).get("name") if isinstance(t, Mapping) else t
            for t in options["tools"]
        ]
    usage = result.usage
    reasons = sorted({c.finish_reason for c in result.choices if c.finish_reason})
    return Provenance(
        model=body.get("model"),
        options=options,
        request_hash=request_hash(body),
        served_model=result.model,
        usage=None
        if usage is None
        else {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
        },
        finish_reason="/".join(reasons) or None,
        system_fingerprint=result.system_fingerprint,
        response_id=result.id,
        cassette=cassette,
    )


def first_difference(a: Any, b: Any, path: str = "") -> str | None:
    """The path of the first place two JSON values differ (``messages[2].content``), or None."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b or a[key] != b[key]:
                sub = f"{path}.{key}" if path else str(key)
                if key in a and key in b:
                    return first_difference(a[key], b[key], sub)
                return sub
        return None
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            if x != y:
                return first_difference(x, y, f"{path}[{i}]")
        return None if len(a) == len(b) else f"{path} (length {len(b)} recorded, {len(a)} now)"
    return None if a == b else path
