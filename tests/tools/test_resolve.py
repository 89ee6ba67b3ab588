"""``--tools SPEC``: registered names, or a variable holding tool dicts or functions."""

from __future__ import annotations

from typing import Any

import pytest

from nscale_jupyter._tools import ToolRegistry, ToolSchemaError, resolve_tools

RAW = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}


def get_weather(city: str) -> str:
    """Weather in a city."""
    return city


def search(query: str, limit: int = 3) -> list[str]:
    """Search the web."""
    return [query] * limit


def reg() -> ToolRegistry:
    registry = ToolRegistry()
    registry.register(get_weather)
    registry.register(search)
    return registry


def names(tools: tuple[dict[str, Any], ...]) -> list[str]:
    return [t["function"]["name"] for t in tools]


def test_names_in_the_order_given() -> None:
    assert names(resolve_tools(" search , get_weather ", reg(), {})) == ["search", "get_weather"]
    assert resolve_tools("", reg(), {}) == () and resolve_tools(None, reg(), {}) == ()


def test_an_unknown_name_lists_the_registered_ones() -> None:
    with pytest.raises(KeyError, match="no tool named nope; registered: get_weather, search"):
        resolve_tools("get_weather,nope", reg(), {})


def test_a_variable_of_dicts_is_used_as_is() -> None:
    registry = reg()
    assert resolve_tools("my_tools", registry, {"my_tools": [RAW]}) == (RAW,)
    assert resolve_tools("one", registry, {"one": RAW}) == (RAW,)
    assert "lookup" not in registry  # shown to the model, not registered to run


def test_a_variable_of_functions_registers_them() -> None:
    registry = ToolRegistry()

    def shout(text: str) -> str:
        return text.upper()

    tools = resolve_tools("fns", registry, {"fns": [shout, RAW]})
    assert names(tools) == ["shout", "lookup"] and registry.get("shout") is shout


def test_the_registered_function_itself_resolves_by_name() -> None:
    registry = reg()
    tools = resolve_tools("get_weather", registry, {"get_weather": get_weather})
    assert tools == registry.schemas(["get_weather"])


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ([RAW, 3], r"bad\[1\]: expected a function or an OpenAI-style tool dict, got int"),
        ({"name": "x"}, r'bad: expected \{"type": "function"'),
        ([lambda x: x], "tool name '<lambda>'"),
    ],
)
def test_a_variable_that_is_not_tools(value: Any, needle: str) -> None:
    with pytest.raises(ToolSchemaError, match=needle):
        resolve_tools("bad", reg(), {"bad": value})
