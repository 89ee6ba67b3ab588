"""What a ``%chat`` line means: the options, then the prompt exactly as typed.

The line magic's grammar (:func:`split_line`) and the input transform that
keeps IPython from reading ``%chat How are you?`` as a help request
(:func:`question_marks`). Face layer; no requests here.
"""

from __future__ import annotations

import re
import shlex

from ._flags import NO_VALUE

__all__ = ["question_marks", "split_line"]

_WORD = re.compile(r"""(?:[^\s'"\\]|\\.|'[^']*'|"(?:[^"\\]|\\.)*")+""", re.S)


def split_line(line: str) -> tuple[list[str], str]:
    """``%chat`` line: (the leading options as argv, the prompt as typed).

    Options are read like a shell reads words (quotes group, and go); the
    first word that is not an option or an option's value starts the
    prompt, which is kept exactly (``what's up`` needs no quoting). ``--``
    ends the options. ValueError for unbalanced quotes among the options.
    """
    argv: list[str] = []
    pos, wants_value = 0, False
    while True:
        while pos < len(line) and line[pos].isspace():
            pos += 1
        if pos == len(line):
            return argv, ""
        if not wants_value and (line[pos] != "-" or line[pos:].strip() == "-"):
            return argv, line[pos:].strip()
        match = _WORD.match(line, pos)
        end = match.end() if match else pos
        if end < len(line) and not line[end].isspace():
            raise ValueError("No closing quotation")
        (word,) = shlex.split(line[pos:end])
        pos = end
        if wants_value:
            argv.append(word)
            wants_value = False
        elif word == "--":
            return argv, line[pos:].strip()
        else:
            argv.append(word)
            wants_value = "=" not in word and word not in NO_VALUE
    return argv, ""  # pragma: no cover


_CHAT_LINE = re.compile(r"^(?P<indent>[ \t]*)%chat[ \t]+(?P<rest>\S.*\?)[ \t]*$")


def question_marks(lines: list[str]) -> list[str]:
    """``%chat How are you?`` is a question for the model, not IPython's help on ``you``.

    IPython reads a line ending in ``?`` as a help request before any magic
    runs; this cleanup transform turns such a ``%chat`` line into the magic's
    call first. ``%chat?`` and ``%chat ?`` still show the help.
    """
    if lines and lines[0].lstrip().startswith("%%"):
        return lines  # a cell magic's body is its own
    out = []
    for line in lines:
        match = _CHAT_LINE.match(line.rstrip("\n"))
        if match is None or match["rest"].strip() == "?":
            out.append(line)
        else:
            call = f"get_ipython().run_line_magic('chat', {match['rest']!r})"
            out.append(f"{match['indent']}{call}\n")
    return out
