"""The usage footer: model, finish reason, tokens, time to first token, speed."""

from __future__ import annotations

from .._results import ChatResult

__all__ = ["footer_text"]


def footer_text(result: ChatResult | None, *, cut_off: str | None = None) -> str:
    """One line: model · finish · tokens · first token (or, not streamed, the wait) · speed."""
    if result is None:
        return f"cut off: {cut_off}" if cut_off else ""
    parts = [result.model or "?"]
    reasons = sorted({c.finish_reason or "?" for c in result.choices}) or ["?"]
    parts.append("/".join(reasons))
    usage = result.usage
    if usage is not None and usage.completion_tokens is not None:
        parts.append(f"{usage.prompt_tokens} prompt + {usage.completion_tokens} completion tokens")
    else:
        parts.append("usage unknown")
    timing = result.timing
    if timing.time_to_first_token is not None:
        parts.append(f"first token {timing.time_to_first_token:.2f} s")
    elif timing.elapsed is not None:  # not streamed: only the whole wait is known
        parts.append(f"{timing.elapsed:.2f} s")
    if usage is not None and usage.completion_tokens and timing.elapsed:
        parts.append(f"{usage.completion_tokens / timing.elapsed:.1f} tok/s")
    prov = result.provenance
    if prov is not None and prov.cost is not None:
        parts.append(f"cost {prov.cost:.6f}")
    if cut_off or result.truncated:
        parts.append(f"cut off{': ' + cut_off if cut_off else ''}")
    return " · ".join(parts)
