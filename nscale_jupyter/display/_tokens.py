"""Per-token text rebuilt from logprob entries and aligned to the reply (pure).

vLLM sends ``bytes`` as the UTF-8 of the token *string* (a split multibyte
character arrives as ``""``/``[]`` then a token with a U+FFFD prefix);
OpenAI sends raw token bytes, which may be partial UTF-8. An incremental
decoder handles both: a character is credited to the token that completes
it. The pieces are then matched to the reply text left to right; pieces
that do not match (EOS, markup, replacement characters) are flagged, never
spliced into the text.
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence
from dataclasses import dataclass

from .._results import NEG_INF_SENTINEL, TokenLogprob

__all__ = ["AlignedToken", "align", "token_pieces"]


@dataclass(frozen=True, slots=True)
class AlignedToken:
    """One token with the slice of the reply text it produced."""

    position: int
    entry: TokenLogprob
    text: str  # the part of the reply this token accounts for ("" if none)
    matched: bool  # False: not found in the reply (EOS, markup, U+FFFD)

    @property
    def logprob(self) -> float | None:
        """None for vLLM's minus-infinity sentinel."""
        lp = self.entry.logprob
        return None if lp <= NEG_INF_SENTINEL else lp


def token_pieces(entries: Sequence[TokenLogprob]) -> list[str]:
    """The decoded text of each token, multibyte characters credited to their last token."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    pieces = [
        decoder.decode(bytes(e.bytes) if e.bytes is not None else e.token.encode("utf-8"))
        for e in entries
    ]
    if pieces:
        pieces[-1] += decoder.decode(b"", final=True)
    return pieces


def align(entries: Sequence[TokenLogprob], text: str) -> list[AlignedToken]:
    """Match token pieces to ``text`` left to right.

    The matched pieces, joined, equal a prefix of ``text`` (all of it when
    every generated token is accounted for).
    """
    out: list[AlignedToken] = []
    pos = 0
    for i, (entry, piece) in enumerate(zip(entries, token_pieces(entries), strict=True)):
        clean = piece.replace("\ufffd", "")
        if piece and text.startswith(piece, pos):
            out.append(AlignedToken(i, entry, piece, True))
            pos += len(piece)
        elif clean and "\ufffd" in piece and text.startswith(clean, pos):
            # vLLM prefixes a token that starts mid-character with U+FFFD.
            out.append(AlignedToken(i, entry, clean, True))
            pos += len(clean)
        elif piece and piece.startswith("\ufffd") and pos < len(text):
            # The completing token of a split character: credit the character.
            rest = piece.lstrip("\ufffd")
            take = 1 + (len(rest) if text.startswith(rest, pos + 1) else 0)
            out.append(AlignedToken(i, entry, text[pos : pos + take], True))
            pos += take
        else:
            out.append(AlignedToken(i, entry, "", not piece))
    return out
