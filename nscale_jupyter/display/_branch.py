"""A branch beside the reply it left: the shared prefix, the two tokens marked, what followed."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ._choice import column_html
from ._escape import escape_html
from ._footer import footer_text

if TYPE_CHECKING:  # pragma: no cover
    from .._branching import Branch

__all__ = ["branch_html"]

#: A marked token: its own light background, so its own dark text (any theme).
_MARK = (
    "<mark style='background:{};color:#111;border-radius:3px;padding:0 1px' title='{}'>{}</mark>"
)


def _mark(token: str, colour: str, title: str) -> str:
    shown = token.replace("\n", "↵\n") or "∅"
    return _MARK.format(colour, escape_html(title), escape_html(shown))


def _body(prefix: str, mark: str, rest: str) -> str:
    return (
        "<div class='nscale-branch-text' style='white-space:pre-wrap;margin:4px 0'>"
        f"{escape_html(prefix)}{mark}{escape_html(rest)}</div>"
    )


def branch_html(branch: Branch) -> str:
    """The original and the branch side by side (every model text escaped)."""
    p, original = branch.point, branch.original
    tokens = [e.token for e in original.logprobs or ()]
    sampled = tokens[p.position] if p.position < len(tokens) else p.replaced
    kept = original.logprobs[p.position].logprob if original.logprobs else 0.0
    left = column_html(
        f"original: token {p.position} sampled {p.replaced!r}",
        _body(p.prefix, _mark(sampled, "#fdd8a0", f"sampled, p={math.exp(kept):.1%}"),
              "".join(tokens[p.position + 1 :])),
        footer_text(original),
    )  # fmt: skip
    right = column_html(
        f"branch: {p.token!r} instead",
        _body(p.prefix, _mark(p.token, "#b7e4c7", f"chosen, p={math.exp(p.logprob):.1%}"),
              branch.result.text),
        footer_text(branch.result),
    )  # fmt: skip
    return (
        "<div class='nscale-branch' style='display:flex;gap:8px;flex-wrap:wrap'>"
        f"{left}{right}</div>"
    )
