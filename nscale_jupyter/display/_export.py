"""A transcript as Markdown, a self-contained HTML page, or a new notebook (nbformat 4.5).

Every text (the model's, a tool's, the user's) is escaped with the helpers of
``_escape``: in Markdown and notebook outputs it cannot open HTML, a link, code
or math; the HTML page shows it as text, and its Content-Security-Policy lets
nothing load or run (no scripts, no remote fetches; inline CSS and ``data:``
images only). Images: a ``data:`` image becomes a thumbnail; a remote one a
link, never fetched.
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

from .._images import own_data
from .._transcript import Answer, Transcript
from .._types import ImagePart, Message, ToolCall
from ._escape import escape_html, inert_html, safe_markdown

__all__ = ["transcript_html", "transcript_ipynb", "transcript_markdown"]

_REMOTE = re.compile(r"https?://\S+", re.ASCII | re.IGNORECASE)
THUMBNAIL = 160  # px, the longer side


def _inline(text: str) -> str:
    """A short text (a name, an id) as inert HTML and Markdown: ``$`` and ``\\`` stay
    text for MathJax too (each in its own ``<span>``, as the prose escaper does)."""
    out = escape_html(text)
    return out.replace("&#36;", "<span>&#36;</span>").replace("&#92;", "<span>&#92;</span>")


def _image(part: ImagePart) -> str:
    """A thumbnail (``data:`` raster image), a link (https), or a note; inert HTML."""
    url = part.url.strip()
    if own_data(part) is not None:  # raster images whose bytes match (an SVG can carry script)
        style = f"max-width:{THUMBNAIL}px;max-height:{THUMBNAIL}px"
        return f'<img src="{escape_html(url)}" alt="image" style="{style}">'
    if _REMOTE.fullmatch(url):
        return f'<a href="{escape_html(url)}">image: {_inline(url)}</a>'
    return "<i>(an image not shown)</i>"


def _images(message: Message) -> list[str]:
    return [_image(p) for p in message.images]


def _pre(text: str) -> str:
    """Literal text in a one-line ``<pre>``: inert as HTML and as Markdown."""
    return (
        "<pre><code>"
        + escape_html(text).replace("\n", "&#10;").replace("\r", "&#13;")
        + "</code></pre>"
    )


def _call_title(call: ToolCall) -> str:
    return f"tool call <b>{_inline(call.name or '?')}</b> <i>{_inline(call.id or '')}</i>"


def _footer(answer: Answer | None) -> str:
    prov = answer.provenance if answer is not None else None
    if prov is None:
        return ""
    bits = [prov.served_model or prov.model or "?"]
    usage = prov.usage or {}
    if usage.get("total_tokens") is not None:
        bits.append(f"{usage.get('prompt_tokens')} + {usage.get('completion_tokens')} tokens")
    if prov.finish_reason:
        bits.append(prov.finish_reason)
    if prov.replayed:
        bits.append("replayed")
    return f"<small>{_inline(' · '.join(str(b) for b in bits))}</small>"


def _header(t: Transcript) -> list[str]:
    note = f"exported {t.exported or '?'} by nscale-jupyter {t.version or '?'}"
    return [f"thread {t.thread}", note, f"{len(t.messages)} messages"]


# -- Markdown ----------------------------------------------------------------------------
def _message_markdown(m: Message, answer: Answer | None) -> str:
    """One message as inert Markdown (a heading, then its parts)."""
    who = m.role if m.role != "tool" else f"tool result {m.tool_call_id or ''}"
    parts = [f"### {_inline(who)}" + (" (cut off)" if m.truncated else "")]
    if answer is not None and answer.reasoning:
        folded = _pre(answer.reasoning)
        parts.append(f"<details><summary>reasoning</summary>{folded}</details>")
    if m.role == "tool":
        parts.append(_pre(m.text))
    elif m.text:
        parts.append(safe_markdown(m.text))
    images = _images(m)
    if images:
        parts.append(" ".join(images))
    for call in m.tool_calls:
        parts.append(f"{_call_title(call)} {_pre(call.arguments)}")
    footer = _footer(answer)
    if footer:
        parts.append(footer)
    return "\n\n".join(parts)


def transcript_markdown(t: Transcript) -> str:
    """The thread as Markdown: a heading per message, model text escaped."""
    name, note, count = _header(t)
    out = [f"# {safe_markdown(name)}", f"*{_inline(note)}, {count}*"]
    if t.system:
        out.append(f"### system\n\n{safe_markdown(t.system)}")
    out += [_message_markdown(m, t.answers.get(i)) for i, m in enumerate(t.messages)]
    if t.pending:
        waiting = ", ".join(_inline(c.id or "?") for c in t.pending)
        out.append(f"*waiting for an answer by hand: {waiting}*")
    return "\n\n".join(out) + "\n"


# -- HTML --------------------------------------------------------------------------------
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; form-action 'none'"
_CSS = """body{font:15px/1.5 system-ui,sans-serif;max-width:50em;margin:2em auto;padding:0 1em}
.m{margin:1em 0;padding:.5em 1em;border-left:4px solid #888}
.user{border-color:#2a6}.assistant{border-color:#36c}.tool{border-color:#a60}
.role{font-weight:bold}.text{white-space:pre-wrap;overflow-wrap:anywhere}
pre{background:#f4f4f4;padding:.5em;white-space:pre-wrap;overflow-wrap:anywhere}
small,.note{color:#666}"""


def _message_html(m: Message, answer: Answer | None) -> str:
    who = m.role if m.role != "tool" else f"tool result {m.tool_call_id or ''}"
    body = [f"<div class='role'>{_inline(who)}{' (cut off)' if m.truncated else ''}</div>"]
    if answer is not None and answer.reasoning:
        body.append(f"<details><summary>reasoning</summary>{_pre(answer.reasoning)}</details>")
    if m.text:
        body.append(f"<div class='text'>{escape_html(m.text)}</div>")
    body += _images(m)
    body += [f"<div>{_call_title(c)}{_pre(c.arguments)}</div>" for c in m.tool_calls]
    body.append(_footer(answer))
    role = m.role if m.role in ("user", "assistant", "tool") else "other"
    return f"<div class='m {role}'>{''.join(body)}</div>"


def transcript_html(t: Transcript) -> str:
    """A self-contained page: inline CSS, no scripts, nothing fetched, every text escaped."""
    name, note, count = (escape_html(s) for s in _header(t))
    rows = [_message_html(m, t.answers.get(i)) for i, m in enumerate(t.messages)]
    if t.system:
        rows.insert(0, _message_html(Message.system(t.system), None))
    if t.pending:
        waiting = ", ".join(_inline(c.id or "?") for c in t.pending)
        rows.append(f"<p class='note'>waiting for an answer by hand: {waiting}</p>")
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{_CSP}\">"
        f"<meta name='referrer' content='no-referrer'><title>{name}</title>"
        f"<style>{_CSS}</style></head>\n<body><h1>{name}</h1><p class='note'>{note}, {count}</p>\n"
        + inert_html("\n".join(rows))
        + "\n</body></html>\n"
    )


# -- notebook ----------------------------------------------------------------------------
def _markdown_cell(source: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "metadata": {}, "source": source}


def _code_cell(source: str, outputs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {},
        "outputs": outputs,
        "source": source,
    }


def _output(m: Message, answer: Answer | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    if answer is not None and answer.provenance is not None:
        metadata["nscale"] = answer.provenance.to_json()
    plain = m.text + "".join(f"\n-> {c.name}({c.arguments})" for c in m.tool_calls)
    return {
        "output_type": "display_data",
        "data": {"text/markdown": _message_markdown(m, answer), "text/plain": plain},
        "metadata": metadata,
    }


def _setup(t: Transcript) -> str:
    lines = ["%load_ext nscale_jupyter", f"%chat thread {shlex.quote(t.thread)}"]
    system = t.system or ""
    if "\n" in system or "\r" in system:
        lines.append(f"%config ChatSettings.system = {system!r}")
    else:
        lines.append(f"%chat system {shlex.quote(system)}")
    return "\n".join(lines)


def _resent(m: Message, turn: int) -> tuple[str, list[str]]:
    """A cell naming the prompt's images (as Python strings) and the ``--image`` flags.

    Our own raster ``data:`` images and http(s) URLs go again; any other image
    is left out, as its thumbnail is. Names only reach the magic's line: an
    odd URL cannot add a flag or a line to the cell.
    """
    sources = [
        p.url.strip() for p in m.images if own_data(p) is not None or _REMOTE.fullmatch(p.url)
    ]
    names = [f"image_{turn}_{k}" for k in range(1, len(sources) + 1)]
    lines = [f"{n} = {u!r}" for n, u in zip(names, sources, strict=True)]
    return "\n".join(["# the images of the next prompt, as it sent them", *lines]), names


def transcript_ipynb(t: Transcript) -> dict[str, Any]:
    """A new notebook of the thread: a ``%%chat`` cell per user turn, the replies as outputs.

    Run again, each cell asks the model anew in the thread (``--no-interpolate``:
    the text goes as it is). A prompt's images are shown above its cell and
    defined in a code cell of their own, which its ``--image`` flags name.
    """
    name, note, count = _header(t)
    cells = [_markdown_cell(f"# {safe_markdown(name)}\n\n*{_inline(note)}, {count}*")]
    cells.append(_code_cell(_setup(t), []))
    current: dict[str, Any] | None = None
    turn = 0
    for i, m in enumerate(t.messages):
        if m.role == "user":
            turn += 1
            images = _images(m)
            flags = ""
            if images:
                cells.append(_markdown_cell("*images of the next prompt:*\n\n" + " ".join(images)))
                source, names = _resent(m, turn)
                if names:
                    cells.append(_code_cell(source, []))
                    flags = "".join(f" --image {n}" for n in names)
            if flags or m.text.strip():
                body = f"\n{m.text}" if m.text.strip() else ""
                current = _code_cell(f"%%chat --no-interpolate{flags}{body}", [])
            else:
                current = _code_cell("# a prompt of images not sent again: shown above", [])
            cells.append(current)
        elif current is None:  # before the first user turn: shown, not run
            cells.append(_markdown_cell(_message_markdown(m, t.answers.get(i))))
        else:
            current["outputs"].append(_output(m, t.answers.get(i)))
    if t.pending:
        waiting = ", ".join(_inline(c.id or "?") for c in t.pending)
        cells.append(_markdown_cell(f"*waiting for an answer by hand: {waiting}*"))
    for n, cell in enumerate(cells):
        cell["id"] = f"cell-{n}"
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
            "nscale": json.loads(json.dumps({"thread": t.thread, "exported": t.exported})),
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
