"""Tool schemas from signatures, hints and docstrings."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Literal, Optional, TypedDict

import pytest

from nscale_jupyter._tools import ToolRegistry, ToolSchemaError, schema_for, tool


class Unit(enum.Enum):
    C = "c"
    F = "f"


@dataclass
class Place:
    """A place.

    Args:
        city: The city.
        country: ISO code.
    """

    city: str
    country: str = "FR"
    tags: list[str] = field(default_factory=list)


class Window(TypedDict):
    start: int
    end: int


def params(fn: Any) -> dict[str, Any]:
    return schema_for(fn)["function"]["parameters"]


def test_basic_types_required_and_defaults() -> None:
    def f(a: str, b: int, c: float = 1.5, d: bool = False) -> None:
        """Do f."""

    s = schema_for(f)
    assert s["type"] == "function" and s["function"]["name"] == "f"
    assert s["function"]["description"] == "Do f."
    assert s["function"]["parameters"] == {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "integer"},
                       "c": {"type": "number", "default": 1.5},
                       "d": {"type": "boolean", "default": False}},
        "required": ["a", "b"],
    }  # fmt: skip


def test_literal_enum_optional_list_dict() -> None:
    def f(
        mode: Literal["a", "b"],
        unit: Unit,
        maybe: Optional[int] = None,  # noqa: UP045
        also: str | None = None,
        xs: list[int] | None = None,
        table: dict[str, float] | None = None,
        pair: tuple[int, str] = (1, "x"),
    ) -> None:
        pass

    p = params(f)["properties"]
    assert p["mode"] == {"enum": ["a", "b"], "type": "string"}
    assert p["unit"] == {"type": "string", "enum": ["c", "f"]}
    assert p["maybe"] == {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    assert p["also"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert p["xs"]["anyOf"][0] == {"type": "array", "items": {"type": "integer"}}
    assert p["table"]["anyOf"][0] == {"type": "object", "additionalProperties": {"type": "number"}}
    assert p["pair"]["prefixItems"] == [{"type": "integer"}, {"type": "string"}]
    assert params(f)["required"] == ["mode", "unit"]


def test_dataclass_and_typeddict_parameters() -> None:
    def f(place: Place, window: Window) -> None:
        pass

    p = params(f)["properties"]
    assert p["place"]["properties"]["city"] == {"type": "string", "description": "The city."}
    assert p["place"]["required"] == ["city"]
    assert p["place"]["properties"]["tags"] == {"type": "array", "items": {"type": "string"}}
    assert p["window"] == {
        "type": "object",
        "properties": {"start": {"type": "integer"}, "end": {"type": "integer"}},
        "required": ["start", "end"],
    }


@pytest.mark.parametrize("style", ["google", "numpy", "sphinx"])
def test_docstring_styles(style: str) -> None:
    docs = {
        "google": "Get weather.\n\nArgs:\n    city: The city name.\n    days (int): How many.\n",
        "numpy": "Get weather.\n\nParameters\n----------\ncity : str\n    The city name.\n"
        "days : int\n    How many.\n",
        "sphinx": "Get weather.\n\n:param city: The city name.\n:param int days: How many.\n",
    }

    def f(city: str, days: int = 1) -> None:
        pass

    f.__doc__ = docs[style]
    s = schema_for(f)["function"]
    assert s["description"] == "Get weather."
    assert s["parameters"]["properties"]["city"]["description"] == "The city name."
    assert s["parameters"]["properties"]["days"]["description"] == "How many."


@pytest.mark.parametrize(("fn_source", "needle"), [
    ("def f(x): pass", "add a type hint"),
    ("def f(*args: int): pass", "*args"),
    ("def f(**kw: int): pass", "*args and **kwargs"),
    ("def f(x: set[object]): pass", "no JSON schema"),
    ("def f(x: dict[int, str]): pass", "keys are strings"),
    ("class C: pass\ndef f(x: C): pass", "no JSON schema"),
])  # fmt: skip
def test_undescribable_functions_fail_at_registration(fn_source: str, needle: str) -> None:
    namespace: dict[str, Any] = {}
    exec(fn_source, namespace)
    with pytest.raises(ToolSchemaError, match=needle.replace("*", r"\*")):
        ToolRegistry().register(namespace["f"])


def test_decorator_registers_and_keeps_the_function() -> None:
    registry = ToolRegistry()

    @tool(registry=registry, strict=True, description="Weather now.")
    def get_weather(city: str) -> str:
        return city

    assert get_weather("x") == "x"
    (schema,) = registry.schemas(["get_weather"])
    assert schema["function"]["strict"] is True
    assert schema["function"]["description"] == "Weather now."
    with pytest.raises(KeyError, match="no tool named nope"):
        registry.schemas(["nope"])


def test_bad_tool_name() -> None:
    def f() -> None:
        pass

    with pytest.raises(ToolSchemaError, match="tool name"):
        schema_for(f, name="has space")
