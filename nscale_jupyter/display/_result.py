"""The rich repr of a ``ChatResult``: its reply as safe Markdown, with the footer."""

from __future__ import annotations

from .._types import ChatResult
from ._escape import escape_html, safe_markdown
from ._footer import footer_text

__all__ = ["result_markdown"]


def result_markdown(result: ChatResult) -> str:
    out = []
    for choice in result.choices or ():
        if len(result.choices) > 1:
            out.append(f"**choice {choice.index}**\n\n")
        if choice.reasoning:
            out.append(
                '<details><summary>Reasoning</summary>\n\n<pre style="white-space: pre-wrap">'
                f"{escape_html(choice.reasoning)}</pre>\n\n</details>\n\n"
            )
        if choice.content:
            out.append(safe_markdown(choice.content) + "\n\n")
        for call in choice.tool_calls:
            out.append(
                f"<code>{escape_html(call.name or '?')}({escape_html(call.arguments)})</code>"
                f" <sub>{escape_html(call.id or '')}</sub>\n\n"
            )
    out.append(f"<sub>{escape_html(footer_text(result))}</sub>")
    return "".join(out)
