"""Fuzzing tools through %%chat: bad argument JSON, bad tool schemas, hostile tool names.

Whatever the model or the notebook sends, a cell ends in one of three ways:
success, a one-line ``UsageError``, or an ``"Error: ..."`` tool message sent
back to the model. Never a traceback, and the thread stays well formed.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import nscale_jupyter._api as api
from nscale_jupyter._magics import ChatMagics
from nscale_jupyter._schema import schema_for
from nscale_jupyter._tools import ToolRegistry
from nscale_jupyter._types import Message
from tests.core.streams import stream_response
from tests.tools.test_loop import calls_stream

from .conftest import Server, reply

FUZZ = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

ANSWER = "All done."


NOTEBOOK_NAMES = ("add", "_add_seen", "t")


@pytest.fixture(autouse=True)
def _clean_notebook(ip: InteractiveShell) -> Iterator[None]:
    """The shell is shared by the whole run: leave no ``add`` or ``t`` for other tests
    (``--tools add`` would otherwise pick up this file's variable)."""
    yield
    for name in NOTEBOOK_NAMES:
        ip.user_ns.pop(name, None)


# -- helpers --------------------------------------------------------------------------------
def register_add(ip: InteractiveShell) -> list[tuple[Any, Any]]:
    """A fresh registry holding the notebook's ``add``; returns the calls it receives."""
    api.default_session().tools = ToolRegistry()
    seen: list[tuple[Any, Any]] = []
    ip.user_ns["_add_seen"] = seen
    ip.run_cell(
        "def add(a: int, b: int) -> int:\n"
        '    """Add two integers."""\n'
        "    _add_seen.append((a, b))\n"
        "    return a + b\n"
    )
    with capture_output():
        ip.run_line_magic("chat", "tool add")
    return seen


def chat_turn(
    ip: InteractiveShell,
    server: Server,
    line: str,
    calls: list[tuple[str, str, str]] | None = None,
    cuts: list[list[int]] | None = None,
) -> tuple[Any, list[dict[str, Any]], BaseException | None]:
    """One ``%%chat --new`` cell: the model makes ``calls`` (if any), then answers.

    Returns (captured output, the request bodies of this cell, UsageError or None).
    Anything other than a UsageError propagates: that is the failure we look for.
    """
    start = len(server.bodies)
    server.recorder.responses.clear()
    if calls:
        body = calls_stream(*calls, cuts=cuts)
        server.script(lambda r: stream_response(body), reply(ANSWER))
    else:
        server.script(reply(ANSWER))
    error: BaseException | None = None
    try:
        with capture_output() as cap:
            ip.run_cell_magic("chat", f"-m m --new {line}", "go")
    except UsageError as exc:
        error = exc
    finally:
        server.recorder.responses.clear()  # nothing left over for the next example
    if error is not None:
        assert "\n" not in str(error).strip(), str(error)
    else:
        seen = cap.stdout + cap.stderr
        assert "Traceback" not in seen, seen
    return (None if error else cap), server.bodies[start:], error


def check_history(messages: list[Message]) -> None:
    """user first, every tool call answered right after it, ends on a plain answer."""
    assert messages and messages[0].role == "user"
    i = 1
    while i < len(messages):
        message = messages[i]
        assert message.role == "assistant", [m.role for m in messages]
        ids = [c.id for c in message.tool_calls]
        answers = messages[i + 1 : i + 1 + len(ids)]
        assert [m.role for m in answers] == ["tool"] * len(ids)
        assert [m.tool_call_id for m in answers] == ids
        i += 1 + len(ids)
    assert messages[-1].role == "assistant" and not messages[-1].tool_calls


def tool_messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in body["messages"] if m["role"] == "tool"]


_INTLIKE = re.compile(r"\s*-?\d+\s*")


def expected_sum(arguments: str) -> int | None:
    """What ``add`` should return for these arguments, or None when the model must be
    told off (the library's light coercions: ``2.0`` and ``"2"`` are integers)."""
    try:
        value = json.loads(arguments)
    except ValueError:
        return None
    if not isinstance(value, dict) or set(value) != {"a", "b"}:
        return None
    out = []
    for item in (value["a"], value["b"]):
        whole_float = isinstance(item, float) and item.is_integer()
        if whole_float or (isinstance(item, str) and _INTLIKE.fullmatch(item)):
            item = int(item)
        if type(item) is not int:
            return None
        out.append(item)
    return out[0] + out[1]


# -- strategies -----------------------------------------------------------------------------
INTS = st.integers(-(10**40), 10**40) | st.sampled_from([0, -1, 2**63, -(2**64), 10**300])
JSON_LEAF = (
    st.none()
    | st.booleans()
    | INTS
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
JSON_VALUE = st.recursive(
    JSON_LEAF,
    lambda kids: (
        st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=4), kids, max_size=3)
    ),
    max_leaves=8,
)
INT_LIKE = (
    INTS
    | INTS.map(float)
    | INTS.map(str)
    | INTS.map(lambda n: f"  {n}\n")
    | st.sampled_from([True, False, None, 1.5, "1.5", "3e2", "", " ", "٣", "１２", "0x10"])
    | JSON_VALUE
)
KEY = st.sampled_from(["a", "b", "c", "", "A", "a ", "ä", "__class__"]) | st.text(max_size=4)
ARG_OBJECTS = (
    st.fixed_dictionaries({"a": INTS, "b": INTS})
    | st.fixed_dictionaries({"a": INT_LIKE, "b": INT_LIKE})
    | st.fixed_dictionaries({"a": INT_LIKE}, optional={"b": INT_LIKE, "c": JSON_VALUE})
    | st.dictionaries(KEY, INT_LIKE, max_size=4)
)
NON_FINITE = st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999"]).map(
    lambda x: f'{{"a": {x}, "b": 1}}'
)
JSON_TEXT = st.builds(
    lambda value, ascii, indent: json.dumps(value, ensure_ascii=ascii, indent=indent),
    ARG_OBJECTS | JSON_VALUE,
    st.booleans(),
    st.sampled_from([None, 0, 2]),
)


@st.composite
def truncated(draw: st.DrawFn) -> str:
    text = draw(JSON_TEXT)
    return text[: draw(st.integers(0, max(0, len(text) - 1)))]


ARGUMENTS = st.one_of(
    JSON_TEXT,
    truncated(),
    NON_FINITE,
    st.text(max_size=40),
    st.text(alphabet=st.sampled_from(list('{}[]":,ab01 -.\\eEnul')), max_size=30),
    st.sampled_from(
        [
            "",
            "   ",
            "null",
            "[]",
            '"{}"',
            '{"a": 1, "b": 2}garbage',
            '{"a": 1, "b": 2}{"a": 3, "b": 4}',
            '{"a": 1, "a": 2, "b": 3}',
            "{'a': 1, 'b': 2}",
            '{"a": 1, "b": 2,}',
            '{"a": 0x1, "b": 2}',
            '{"a": "1", "b": "２"}',
            '{"a": 1, "b": 2}\u2028',
            '\ufeff{"a": 1, "b": 2}',
            '{"a": 1, "b": 2}\x00',
            '{"a\\u0000": 1, "b": 2}',
            '{"a": [1], "b": {"c": 2}}',
            "}{",
            "{{{{}}}}",
            "[" * 50 + "]" * 50,
        ]
    ),
)


@st.composite
def tool_calls(draw: st.DrawFn) -> tuple[list[tuple[str, str, str]], list[list[int]]]:
    """1-3 calls of ``add`` with fuzzed arguments, each cut into random stream fragments."""
    calls, cuts = [], []
    for i in range(draw(st.integers(1, 3))):
        arguments = draw(ARGUMENTS)
        calls.append((f"call_{i}", "add", arguments))
        cuts.append(draw(st.lists(st.integers(0, len(arguments)), max_size=6)))
    return calls, cuts


# -- 1. fuzzed argument JSON for a registered Python tool ----------------------------------
def test_a_valid_call_still_works(ip: InteractiveShell, server: Server) -> None:
    seen = register_add(ip)
    _, bodies, error = chat_turn(ip, server, "--tools add", [("c1", "add", '{"a": 2, "b": 40}')])
    assert error is None and seen == [(2, 40)]
    assert tool_messages(bodies[1]) == [{"role": "tool", "tool_call_id": "c1", "content": "42"}]


@FUZZ
@given(drawn=tool_calls())
def test_fuzzed_arguments_give_a_result_or_an_error_message(
    ip: InteractiveShell, server: Server, drawn: tuple[list[tuple[str, str, str]], list[list[int]]]
) -> None:
    calls, cuts = drawn
    seen = register_add(ip)
    _, bodies, error = chat_turn(ip, server, "--tools add", calls, cuts)
    assert error is None
    assert all(type(a) is int and type(b) is int for a, b in seen), seen
    assert len(bodies) == 2  # the tool round, then the answer
    first, second = bodies
    assert first["tools"][0]["function"]["name"] == "add"
    sent_calls = second["messages"][-len(calls) - 1]["tool_calls"]
    assert [c["function"]["arguments"] for c in sent_calls] == [c[2] for c in calls]
    results = tool_messages(second)
    assert [m["tool_call_id"] for m in results] == [c[0] for c in calls]
    ran = []
    for (_, _, arguments), message in zip(calls, results, strict=True):
        want = expected_sum(arguments)
        event("error message" if want is None else "tool ran")
        if want is None:
            assert message["content"].startswith("Error"), (arguments, message)
        else:
            assert message["content"] == str(want), (arguments, message)
            ran.append(want)
    assert sorted(a + b for a, b in seen) == sorted(ran)
    messages = api.default_session().thread().messages
    check_history(messages)
    assert [m.role for m in messages] == ["user", "assistant", *["tool"] * len(calls), "assistant"]
    assert messages[-1].content == ANSWER


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param("[" * 100_000, id="deeply-nested-json"),
        pytest.param('{"a": "' + "9" * 5000 + '", "b": 1}', id="huge-digit-string"),
        pytest.param('{"a": ' + "9" * 4300 + ', "b": 1}', id="result-over-digit-limit"),
    ],
)
def test_arguments_beyond_python_limits_give_an_error_message(
    ip: InteractiveShell, server: Server, arguments: str
) -> None:
    seen = register_add(ip)
    _, bodies, error = chat_turn(ip, server, "--tools add", [("c1", "add", arguments)])
    assert error is None and len(bodies) == 2
    (message,) = tool_messages(bodies[1])
    assert message["content"].startswith("Error"), message  # the model hears why
    assert all(type(a) is int and type(b) is int for a, b in seen)
    check_history(api.default_session().thread().messages)


# -- 2. fuzzed tool schemas in a notebook variable -----------------------------------------
def lookup(city: str) -> str:
    """Look a city up."""
    return city


NAME = (
    st.text(max_size=10)
    | st.none()
    | st.integers()
    | st.lists(st.text(max_size=2), max_size=2)
    | st.sampled_from(["get_weather", "", "<script>", "a b"])
)
FUNCTION = (
    st.fixed_dictionaries(
        {"name": NAME},
        optional={
            "description": JSON_VALUE,
            "parameters": JSON_VALUE | st.just({"type": "object", "properties": {}}),
            "strict": st.booleans(),
        },
    )
    | st.fixed_dictionaries({}, optional={"description": st.text(max_size=5)})
    | JSON_VALUE
)
TOOL_DICT = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["function", "Function", "", "tool"]) | JSON_LEAF,
        "function": FUNCTION,
        "extra": JSON_VALUE,
    },
)
GOOD_TOOL = st.fixed_dictionaries(
    {"type": st.just("function"), "function": st.fixed_dictionaries({"name": st.text()})}
)
ITEM = (
    GOOD_TOOL
    | TOOL_DICT
    | JSON_VALUE
    | st.sampled_from([len, int, print, lambda x: x, lookup, type("Opaque", (), {})()])
)
TOOLS_VALUE = (
    ITEM
    | st.lists(ITEM, max_size=3)
    | st.lists(ITEM, max_size=3).map(tuple)
    | st.lists(GOOD_TOOL | st.just(lookup), min_size=1, max_size=3)  # mostly accepted
)


def expected_tools(value: Any) -> list[Any]:
    items = list(value) if isinstance(value, list | tuple) else [value]
    out = [schema_for(i) if callable(i) else dict(i) for i in items]
    return json.loads(json.dumps(out))


@FUZZ
@given(value=TOOLS_VALUE)
def test_fuzzed_tool_schemas_give_success_or_usage_error(
    ip: InteractiveShell, server: Server, value: Any
) -> None:
    api.default_session().tools = ToolRegistry()
    ip.user_ns["t"] = value
    _, bodies, error = chat_turn(ip, server, "--tools t")
    event("usage error" if error else "sent")
    if error is not None:
        assert str(error).startswith("--tools: ")
        assert not bodies  # nothing was sent
        return
    assert len(bodies) == 1
    tools = expected_tools(value)
    if tools:
        assert bodies[0]["tools"] == tools
    else:
        assert "tools" not in bodies[0]
    check_history(api.default_session().thread().messages)


@pytest.mark.parametrize(
    "parameters",
    [
        pytest.param(math.nan, id="nan"),
        pytest.param({1, 2}, id="set"),
        pytest.param(object(), id="object"),
    ],
)
def test_tool_schema_that_is_not_json_gives_a_usage_error(
    ip: InteractiveShell, server: Server, parameters: Any
) -> None:
    api.default_session().tools = ToolRegistry()
    ip.user_ns["t"] = [{"type": "function", "function": {"name": "f", "parameters": parameters}}]
    _, bodies, error = chat_turn(ip, server, "--tools t")
    assert isinstance(error, UsageError) and "not JSON" in str(error), error
    assert bodies == []  # refused before anything was sent


# -- 3. unknown and hostile tool names in the model's call ---------------------------------
HOSTILE_NAMES = st.sampled_from(
    [
        "",
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//x.test/a.js>",
        "</pre><script>x()</script>",
        "</b><script",
        "<img src=x onerror=alert(1)>",
        "`<script>`",
        "add<script>",
        "add ",
        "Add",
        "add\n",
        "&lt;script&gt;",
        "\u202eadd",
        "[x](javascript:alert(1))",
    ]
)


@FUZZ
@given(name=(HOSTILE_NAMES | st.text(max_size=30)).filter(lambda n: n != "add"))
def test_unknown_tool_names_get_an_error_message_and_escaped_display(
    ip: InteractiveShell, server: Server, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setattr(ChatMagics, "_terminal", lambda self: False)  # rich display
    seen = register_add(ip)
    cap, bodies, error = chat_turn(ip, server, "--tools add", [("c1", name, '{"a": 1, "b": 2}')])
    assert error is None and not seen
    assert len(bodies) == 2
    (message,) = tool_messages(bodies[1])
    assert message["tool_call_id"] == "c1"
    assert message["content"].startswith("Error: no tool named"), message
    check_history(api.default_session().thread().messages)
    assert cap.outputs, "rich mode displays the reply and the tool card"
    html = "".join(o.data.get("text/html", "") for o in cap.outputs)
    if "<script" in name.lower():
        assert "&lt;script" in html.lower()  # shown, escaped, on the tool card
    for output in cap.outputs:
        for mime in ("text/html", "text/markdown"):
            shown = output.data.get(mime, "")
            assert "<script" not in shown.lower(), (mime, shown)
            assert "<img" not in shown.lower(), (mime, shown)
