"""Running one tool call: every failure is an error text for the model, never a crash."""

from __future__ import annotations

import asyncio
import enum
import json
import threading
from dataclasses import dataclass
from typing import Any

import pytest

from nscale_jupyter import Message, ToolCall
from nscale_jupyter._schema import check_arguments
from nscale_jupyter._tools import ToolOutcome, ToolRegistry, execute


class Unit(enum.Enum):
    C = "c"
    F = "f"


@dataclass
class Place:
    city: str
    country: str = "FR"


def registry() -> ToolRegistry:
    reg = ToolRegistry()

    def get_weather(city: str, unit: Unit = Unit.C, days: int = 1) -> dict[str, Any]:
        """Weather in a city."""
        return {"city": city, "unit": unit.value, "days": days}

    async def get_time(city: str) -> str:
        await asyncio.sleep(0)
        return "12:00"

    def explode(x: int) -> None:
        raise ValueError(f"bad x {x}")

    def where(place: Place, pair: tuple[int, str], tags: set[str], scale: float) -> str:
        return f"{place!r} {pair!r} {sorted(tags)!r} {scale!r}"

    def thread_name() -> str:
        return threading.current_thread().name

    for fn in (get_weather, get_time, explode, where, thread_name):
        reg.register(fn)
    reg.add_schema({"type": "function", "function": {"name": "shown_only"}})
    return reg


def ex(name: str, args: str, reg: ToolRegistry | None = None) -> ToolOutcome:
    return asyncio.run(execute(ToolCall("c1", name, args), reg or registry()))


def test_sync_and_async_tools() -> None:
    ok = ex("get_weather", '{"city": "Paris"}')
    assert ok.ok and json.loads(ok.content) == {"city": "Paris", "unit": "c", "days": 1}
    assert ok.value == {"city": "Paris", "unit": "c", "days": 1} and ok.elapsed >= 0
    assert ok.to_message() == Message.tool("c1", ok.content)
    assert ex("get_time", '{"city": "Oslo"}').content == "12:00"


def test_a_sync_tool_runs_off_the_event_loop_thread() -> None:
    assert ex("thread_name", "{}").content != threading.current_thread().name


def test_a_raising_tool_gives_its_error_text() -> None:
    boom = ex("explode", '{"x": 3}')
    assert not boom.ok and boom.content == "Error: ValueError: bad x 3"


@pytest.mark.parametrize(
    ("name", "args", "needle"),
    [
        ("nope", "{}", "no tool named 'nope'; available tools: explode, get_time, get_weather, "
                       "thread_name, where"),
        ("shown_only", "{}", "no tool named 'shown_only'"),
        ("get_weather", '{"city": ', "not a JSON object"),
        ("get_weather", "[1, 2]", "not a JSON object"),
        ("get_weather", "{}", "bad arguments for get_weather: missing city"),
        ("get_weather", '{"city": "x", "town": "y"}', "unknown town"),
        ("get_weather", '{"city": "x", "unit": "k"}', 'unit: "k" is not one of "c", "f"'),
        ("get_weather", '{"city": "x", "days": "many"}', 'days: expected integer, got "many"'),
        ("get_weather", '{"city": 5}', "city: expected string, got 5"),
        ("where", '{"place": {"town": "x"}, "pair": [1], "tags": [], "scale": 1}',
         "missing place.city; unknown place.town; pair: expected 2 items, got 1"),
    ],
)  # fmt: skip
def test_bad_calls_become_errors_for_the_model(name: str, args: str, needle: str) -> None:
    outcome = ex(name, args)
    assert not outcome.ok and outcome.content.startswith("Error: ")
    assert needle in outcome.content


def test_arguments_become_python_values() -> None:
    out = ex(
        "where",
        '{"place": {"city": "Lyon"}, "pair": [1, "a"], "tags": ["b", "a", "b"], "scale": 2}',
    )
    assert out.ok, out.content
    assert out.content == "Place(city='Lyon', country='FR') (1, 'a') ['a', 'b'] 2.0"


def test_light_coercions() -> None:
    out = ex("get_weather", '{"city": "x", "days": "3", "unit": "f"}')
    assert json.loads(out.content) == {"city": "x", "unit": "f", "days": 3}
    schema = {"type": "object", "properties": {"n": {"type": "number"}, "b": {"type": "boolean"},
                                               "i": {"type": "integer"}}}  # fmt: skip
    assert check_arguments(schema, {"n": "1.5", "b": "TRUE", "i": 2.0}) == (
        {"n": 1.5, "b": True, "i": 2},
        [],
    )
    assert check_arguments(schema, {"i": True})[1] == ["i: expected integer, got true"]
    assert check_arguments({"anyOf": [{"type": "integer"}, {"type": "null"}]}, "x", "v")[1] == [
        'v: "x" does not fit integer or null'
    ]


def test_results_serialise_to_text() -> None:
    reg = ToolRegistry()

    class Opaque:
        def __str__(self) -> str:
            return "<opaque>"

    def values(kind: str) -> Any:
        return {"text": "plain", "none": None, "obj": {"when": Opaque()}, "list": [1, "é"]}[kind]

    reg.register(values)
    texts = [
        ex("values", json.dumps({"kind": k}), reg).content for k in ("text", "none", "obj", "list")
    ]
    assert texts == ["plain", "null", '{"when": "<opaque>"}', '[1, "é"]']
