"""A notebook holding every kind of chat output, drawn by the real renderers.

No kernel and no server: each output is the mimebundle a cell shows, made by
the display code from whole responses (the committed notebooks hold the real
ones). What those do not hold is here: a tool card in every status (and one
with a warning), a reply with reasoning, a heatmap with a newline marker and
a token outside the text, ``n > 1`` choices, a cut-off footer, a comparison
with a failed value, a branch, a prompt heatmap, every role of a history,
notices and the panel's error line.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import nbformat

from nscale_jupyter._accumulator import StreamAccumulator
from nscale_jupyter._branching import Branch, branch_point
from nscale_jupyter._compare import Comparison
from nscale_jupyter._events import ToolCallDelta
from nscale_jupyter._prompt_logprobs import PromptLogprob
from nscale_jupyter._results import ChatResult, Timing
from nscale_jupyter._types import ChatRequest, Message, ToolCall
from nscale_jupyter.display._branch import branch_html
from nscale_jupyter.display._colours import error_html
from nscale_jupyter.display._compare import compare_bundle
from nscale_jupyter.display._escape import inert_html
from nscale_jupyter.display._prompt_heatmap import prompt_heatmap_html
from nscale_jupyter.display._result import reply_bundles
from nscale_jupyter.display._stream import notice_html
from nscale_jupyter.display._toolcard import ToolCardPart
from nscale_jupyter.display._transcript import transcript_bundle

__all__ = ["STATUSES", "gallery_notebook", "write_gallery"]

#: Every status a tool card shows.
STATUSES = ("pending", "running", "done", "error", "waiting", "interrupted")


def _entry(token: str, p: float, *alts: tuple[str, float]) -> dict[str, Any]:
    top = [{"token": t, "logprob": math.log(q), "bytes": list(t.encode())} for t, q in alts]
    return {"token": token, "logprob": math.log(p), "bytes": list(token.encode()),
            "top_logprobs": top}  # fmt: skip


def _result(*choices: dict[str, Any], logprobs: bool = False) -> ChatResult:
    """A whole response, through the accumulator as a reply arrives."""
    shaped = []
    for i, message in enumerate(choices):
        choice: dict[str, Any] = {"index": i, "message": message, "finish_reason": "stop"}
        if logprobs:
            text = message["content"]
            pieces = ["Hi", " there", "!\n", "Sun", "ny", "<|eot|>"]
            assert "".join(pieces[:-1]) == text
            probs = (0.95, 0.6, 0.3, 0.12, 0.02, 0.9)
            pairs = zip(pieces, probs, strict=True)
            choice["logprobs"] = {"content": [_entry(t, p, (t, p), ("x", (1 - p) / 2))
                                              for t, p in pairs]}  # fmt: skip
        shaped.append(choice)
    acc = StreamAccumulator()
    acc.feed_response({
        "id": "chatcmpl-gallery", "object": "chat.completion", "created": 0, "model": "tiny-chat",
        "choices": shaped,
        "usage": {"prompt_tokens": 9, "completion_tokens": 6, "total_tokens": 15},
    })  # fmt: skip
    request = ChatRequest(model="tiny-chat", messages=(Message.user("Hi"),))
    return acc.result(timing=Timing(0.12, 0.5), request=request)


def _tool_cards() -> dict[str, str]:
    part = ToolCardPart(0)
    for i, status in enumerate(STATUSES):
        part.feed(ToolCallDelta(0, i, f"call-{status}", "get_weather", '{"city": "Oslo"}'))
    part.feed(ToolCallDelta(0, len(STATUSES), "call-bad", "get_weather", '{"city": '))
    part.finish()
    for status in STATUSES[1:]:
        result = {"done": "sunny, 21 °C", "error": "Error: no such city"}.get(status)
        part.set_status(f"call-{status}", status, result)
    return part.render()


def _branch() -> str:
    original = _result({"role": "assistant", "content": "Hi there!\nSunny"}, logprobs=True)
    point = branch_point(original, 3, "x")
    branched = _result({"role": "assistant", "content": " and warm"})
    return branch_html(Branch(original, point, branched))


def _prompt_heatmap() -> str:
    tokens = [("<|user|>", None, None), ("\n", -0.4, 1), ("Hi", -3.0, 4), ("!", -0.05, 1)]
    entries = [PromptLogprob(i, t, i, lp, rank) for i, (t, lp, rank) in enumerate(tokens)]
    return prompt_heatmap_html(entries, table=4)


def _history() -> dict[str, str]:
    call = ToolCall("call-1", "get_weather", '{"city": "Oslo"}')
    messages = [
        Message.system("Be brief."),
        Message.user("Weather in Oslo?"),
        Message.assistant(None, tool_calls=(call,)),
        Message.tool("call-1", "sunny"),
        Message.assistant("Sunny in Oslo."),
    ]
    return transcript_bundle("gallery", messages)


def _outputs() -> list[tuple[str, list[dict[str, str]]]]:
    """(cell source, bundles shown) for every kind of output."""
    reply = _result(
        {"role": "assistant", "content": "Hi there!\nSunny", "reasoning": "The user says hi."},
        logprobs=True,
    )
    two = _result(
        {"role": "assistant", "content": "One answer", "reasoning": "Think."},
        {"role": "assistant", "content": "Another"},
    )
    failed = Comparison("temperature", 2.0, None, error="the server said 400: no")
    compared = compare_bundle([Comparison("temperature", 0.0, reply), failed], plots=False)
    html = lambda s: {"text/html": s, "text/plain": "."}  # noqa: E731
    return [
        ("# tool cards: every status, and malformed arguments", [_tool_cards()]),
        ("# a reply: reasoning, text, footer, heatmap", reply_bundles(reply)),
        ("# n = 2: side by side", reply_bundles(two)),
        ("# cut off", reply_bundles(two, cut_off="interrupted")),
        ("# compare, one value failed", [compared]),
        ("# a branch", [html(_branch())]),
        ("# the prompt heatmap", [html(_prompt_heatmap())]),
        ("# history", [_history()]),
        ("# notices", [html(inert_html(notice_html("retrying in 1.0 s (1/2): 503")))]),
        ("# the panel's error line", [html(error_html("the server said 400: no"))]),
    ]


def gallery_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}  # fmt: skip
    for n, (source, bundles) in enumerate(_outputs(), 1):
        outputs = [nbformat.v4.new_output("display_data", data=b) for b in bundles]
        nb.cells.append(nbformat.v4.new_code_cell(source, outputs=outputs, execution_count=n))
    return nb


def write_gallery(path: Path) -> Path:
    nbformat.write(gallery_notebook(), path)
    return path
