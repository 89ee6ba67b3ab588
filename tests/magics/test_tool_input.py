"""Bad tool input through ``%%chat`` (hypothesis): only success, a UsageError, or a tool error.

Tool-call arguments from the model (any text, cut anywhere across chunks),
tool names from the model, and tool values a user passes with ``--tools``:
the cell never raises anything else, a tool only ever runs with valid
arguments, the model gets "Error: ..." back for what cannot run, the
history holds whole turns, and no model-made markup reaches the display.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import nscale_jupyter._api as api
from nscale_jupyter._tools import ToolRegistry
from tests.core.streams import stream_response
from tests.html import tags
from tests.tools.test_loop import calls_stream

from .conftest import Server, reply

FUZZ = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=8,
)
arguments = st.one_of(
    st.text(alphabet=st.sampled_from(list('{}[]":,ab 1-.e\\\n😀\x00<>')), max_size=40),
    json_values.map(json.dumps),
    st.fixed_dictionaries(
        {"a": json_values | st.integers(), "b": json_values | st.integers()},
        optional={"c": json_values},
    ).map(json.dumps),
    st.builds(lambda a, b: json.dumps({"a": a, "b": b}), st.integers(), st.integers()),
)


def add_tool(ip: InteractiveShell) -> list[tuple[Any, Any]]:
    """Register ``add(a: int, b: int)``; returns the list of calls it really got."""
    seen: list[tuple[Any, Any]] = []
    registry = ToolRegistry()
    api.default_session().tools = registry

    def add(a: int, b: int) -> int:
        """Add two whole numbers."""
        seen.append((a, b))
        return a + b

    registry.register(add)
    return seen


def run(ip: InteractiveShell, line: str, body: str) -> Any:
    with capture_output() as cap:
        ip.run_cell_magic("chat", line, body)
    return cap


def markup(cap: Any) -> str:
    return "".join(o.data.get(k, "") for o in cap.outputs for k in ("text/html", "text/markdown"))


def whole_turns(ip: InteractiveShell) -> None:
    """Every assistant tool call in the history is answered by a tool message."""
    messages = api.default_session().thread().messages
    open_ids: set[str] = set()
    for m in messages:
        if m.role == "assistant":
            assert not open_ids, messages
            open_ids = {c.id for c in m.tool_calls}
        elif m.role == "tool":
            open_ids.discard(m.tool_call_id)
    assert not open_ids, messages


@FUZZ
@given(args=arguments, cuts=st.lists(st.integers(0, 60), max_size=6))
def test_model_arguments(ip: InteractiveShell, server: Server, args: str, cuts: list[int]) -> None:
    seen = add_tool(ip)
    api.default_session().new_thread()
    server.script(
        lambda r: stream_response(calls_stream(("c1", "add", args), cuts=[cuts])),
        reply("done"),
    )
    run(ip, "-m m --tools add", "add them")
    tool_message = server.last["messages"][-1]
    assert tool_message["role"] == "tool" and tool_message["tool_call_id"] == "c1"
    try:
        parsed = json.loads(args)
    except ValueError:
        parsed = None
    valid = (
        isinstance(parsed, dict)
        and set(parsed) == {"a", "b"}
        and all(type(parsed[k]) is int for k in "ab")
    )
    if valid:
        assert seen == [(parsed["a"], parsed["b"])]
        assert tool_message["content"] == str(parsed["a"] + parsed["b"])
    else:
        assert all(type(a) is int and type(b) is int for a, b in seen)  # never a bad call
        if not seen:
            assert tool_message["content"].startswith("Error"), tool_message
    whole_turns(ip)


@FUZZ
@given(name=st.text(alphabet=st.sampled_from(list("<>/\"' =scriptaddimg&;\n")), max_size=24))
def test_model_tool_names(ip: InteractiveShell, server: Server, name: str) -> None:
    seen = add_tool(ip)
    api.default_session().new_thread()
    server.script(
        lambda r: stream_response(calls_stream(("c1", name, '{"a": 1, "b": 2}'))),
        reply("done"),
    )
    cap = run(ip, "-m m --tools add", "add them")
    tool_message = server.last["messages"][-1]
    if name == "add":
        assert tool_message["content"] == "3" and seen == [(1, 2)]
    else:
        assert tool_message["content"].startswith("Error") and seen == []
    found = tags(markup(cap))
    assert not {"script", "img"} & set(found.tags)
    assert not [a for a in found.attrs if a.startswith("on") or a == "="]
    whole_turns(ip)


tool_values = st.recursive(
    st.none()
    | st.integers()
    | st.text(max_size=6)
    | st.just({"type": "function", "function": {"name": "f"}})
    | st.just({"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["type", "function", "name", "parameters", "x"]), inner)
    ),
    max_leaves=6,
)


@FUZZ
@given(value=tool_values)
def test_user_tool_values(ip: InteractiveShell, server: Server, value: Any) -> None:
    api.default_session().tools = ToolRegistry()
    ip.user_ns["my_tools"] = value
    before = len(server.bodies)
    try:
        run(ip, "-m m --tools my_tools", "hi")
    except UsageError as exc:
        assert "\n" not in str(exc).strip() and str(exc).startswith("--tools")
        assert len(server.bodies) == before  # refused before sending
        return
    sent = server.last.get("tools")
    items = value if isinstance(value, list | tuple) else [value]
    if items:
        assert sent == [dict(t) for t in items]
    else:
        assert sent is None  # an empty list sends no tools at all
