"""A FaultServer responder for whole conversations: reasoning, tool calls, hostile text.

The last message picks the reply:

- a tool message: reasoning, then "The tool said <its content>.";
- the prompt ``add``: a call of ``add(a=2, b=3)`` (id ``call_add``);
- the prompt ``ask``: a call of ``lookup`` (id ``call_ask``), a tool offered
  without a function, so it waits for a person;
- the prompt ``hostile``: :data:`HOSTILE`, Markdown and HTML that would act;
- anything else: reasoning, then ``Echo: <the prompt's text>``.

Shared by the transcript tests of tests/core, tests/magics and tests/e2e.
"""

from __future__ import annotations

from typing import Any

from tests.core.streams import choice, chunk, role

from .fault_server import Received, Reply, sse_events

__all__ = ["HOSTILE", "LOOKUP", "PNG", "respond"]

#: A 1x1 PNG as a data: URI (an image part of a prompt).
PNG = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4"
    "DwABBAEAwS2OUAAAAABJRU5ErkJggg=="
)

#: A reply that would act if rendered unescaped (script, handlers, remote image, math link).
HOSTILE = (
    "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"
    '<img src="http://127.0.0.1:9/leak-0451-raw.png">'
    "\n\n![pic](http://127.0.0.1:9/leak-0451.png) [click](javascript:alert(1)) "
    '$\\href{javascript:alert(1)}{math}$ <a href="javascript:alert(1)">a</a>\n\n'
    "```\n</code></pre><script>alert(1)</script>\n```"
)
#: A tool offered as a schema only: its calls wait for ``%chat tool-result``.
LOOKUP = {
    "type": "function",
    "function": {
        "name": "lookup",
        "description": "Look something up.",
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
    },
}
USAGE = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if p.get("type") == "text")
    return str(content or "")


def _reply(*deltas: dict[str, Any], finish: str = "stop") -> Reply:
    chunks = [chunk(role(), model="fake")]
    chunks += [chunk(choice(**d), model="fake") for d in deltas]
    chunks.append(chunk(choice(finish_reason=finish), model="fake"))
    chunks.append(chunk(usage=USAGE, model="fake"))
    return Reply(events=sse_events(chunks))


def _call(call_id: str, name: str, arguments: str) -> Reply:
    call = {"index": 0, "id": call_id, "type": "function"}
    call["function"] = {"name": name, "arguments": arguments}
    return _reply({"tool_calls": [call]}, finish="tool_calls")


def respond(received: Received) -> Reply:
    last = (received.json or {}).get("messages", [{}])[-1]
    text = _text(last).strip()
    if last.get("role") == "tool":
        return _reply({"reasoning": "The tool answered."}, {"content": f"The tool said {text}."})
    if text == "add":
        return _call("call_add", "add", '{"a": 2, "b": 3}')
    if text == "ask":
        return _call("call_ask", "lookup", '{"q": "tides"}')
    if text == "hostile":
        return _reply({"content": HOSTILE})
    return _reply({"reasoning": "Let me think."}, {"content": f"Echo: {text}"})
