"""``%chat tools``, ``%chat tool NAME``, ``%chat tool-result ID VALUE``."""

from __future__ import annotations

import json
import shlex

from IPython.core.error import UsageError

from ._magics import ChatMagics, subcommand
from ._tools import ToolRegistry, ToolSchemaError, default_registry, tool_result_message


def _registry(m: ChatMagics) -> ToolRegistry:
    return m.session.tools if m.session.tools is not None else default_registry()


@subcommand("tools")
def _tools(m: ChatMagics, rest: str) -> None:
    """%chat tools: registered tools and their schemas."""
    registry = _registry(m)
    if not len(registry):
        print("no tools registered: decorate a function with @nscale_jupyter.tool")
        return
    for schema in registry.schemas():
        runs = "runs" if registry.get(schema["function"]["name"]) else "schema only"
        print(f"{schema['function']['name']} ({runs}):")
        print(json.dumps(schema["function"], indent=2, ensure_ascii=False))


@subcommand("tool")
def _tool(m: ChatMagics, rest: str) -> None:
    """%chat tool NAME: register the function NAME from the notebook as a tool."""
    name = rest.strip()
    namespace = m.shell.user_ns if m.shell is not None else {}
    if not name or name not in namespace or not callable(namespace[name]):
        raise UsageError(f"%chat tool NAME: no function named {name!r} in the notebook")
    try:
        schema = (_registry(m)).register(namespace[name])
    except ToolSchemaError as exc:
        raise UsageError(str(exc)) from None
    print(f"registered tool {schema['function']['name']}")


@subcommand("tool-result")
def _tool_result(m: ChatMagics, rest: str) -> None:
    """%chat tool-result ID VALUE: answer a tool call by hand; the model then continues."""
    words = shlex.split(rest)
    if len(words) < 2:
        raise UsageError("%chat tool-result ID VALUE")
    if m.pending is None:
        raise UsageError("no tool call is waiting for an answer")
    calls, request = m.pending
    try:
        message = tool_result_message(words[0], " ".join(words[1:]), calls)
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from None
    thread = m.session.thread()
    thread.record([message])
    answered = {msg.tool_call_id for msg in thread.messages if msg.role == "tool"}
    left = [c for c in calls if c.id not in answered]
    if left:
        m.pending = (tuple(left), request)
        print(f"still waiting for: {', '.join(str(c.id) for c in left)}")
        return
    m.pending = None
    result, ok, _ = m._round(request.replace(messages=tuple(thread.history())), quiet=False)
    if ok and result is not None:
        thread.record([result.choice.to_message()])
        if m.shell is not None:
            m.shell.displayhook.update_user_ns(result)
