"""Tool schemas from signatures, hints and docstrings."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Optional, TypedDict

import pytest

try:
    from typing import NotRequired
except ImportError:  # Python 3.10
    from typing_extensions import NotRequired

from nscale_jupyter import NscaleError
from nscale_jupyter._schema import parse_docstring
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
    ("def f(**kw: int): pass", "f(kw): only named parameters"),
    ("def f(x: int, /): pass", "positional-only"),
    ("import enum\nclass E(enum.Enum):\n    A = 1.5\ndef f(x: E): pass", "all-str or all-int"),
    ("import datetime\ndef f(x: datetime.date): pass", "f(x): no JSON schema"),
    ("def f(x: bytes): pass", "no JSON schema"),
    ("def f(x: set[object]): pass", "no JSON schema"),
    ("def f(x: dict[int, str]): pass", "keys are strings"),
    ("class C: pass\ndef f(x: C): pass", "no JSON schema"),
])  # fmt: skip
def test_undescribable_functions_fail_at_registration(fn_source: str, needle: str) -> None:
    namespace: dict[str, Any] = {}
    exec(fn_source, namespace)
    with pytest.raises(ToolSchemaError, match=re.escape(needle)):
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


class Options(TypedDict):
    """Search options.

    Args:
        limit: At most this many.
    """

    limit: int
    lang: NotRequired[Literal["en", "fr"]]


@dataclass
class Query:
    text: str
    options: Options
    near: Place | None = None


def test_nested_objects_keep_their_own_required_lists() -> None:
    def search(query: Query, pages: list[Window]) -> None:
        pass

    p = params(search)
    query = p["properties"]["query"]
    assert query["required"] == ["text", "options"]
    assert query["properties"]["options"]["required"] == ["limit"]
    assert (
        query["properties"]["options"]["properties"]["limit"]["description"]
        == "At most this many."
    )
    assert query["properties"]["options"]["properties"]["lang"] == {
        "enum": ["en", "fr"],
        "type": "string",
    }
    assert query["properties"]["near"]["anyOf"][1] == {"type": "null"}
    assert query["properties"]["near"]["anyOf"][0]["required"] == ["city"]
    assert p["properties"]["pages"]["items"]["required"] == ["start", "end"]


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@dataclass
class Node:
    name: str
    children: list[Node]


def test_more_types() -> None:
    def f(
        level: Level = Level.LOW,
        tags: set[str] | None = None,
        rest: tuple[int, ...] = (),
        flag: Literal[True] = True,
        anything: Any = None,
        city: Annotated[str, "The city, in English."] = "Paris",
    ) -> None:
        pass

    p = params(f)["properties"]
    assert p["level"] == {"type": "integer", "enum": [1, 2], "default": 1}
    assert p["tags"]["anyOf"][0] == {
        "type": "array",
        "items": {"type": "string"},
        "uniqueItems": True,
    }
    assert p["rest"] == {"type": "array", "items": {"type": "integer"}, "default": []}
    assert p["flag"] == {"enum": [True], "type": "boolean", "default": True}
    assert p["anything"] == {}
    assert p["city"] == {
        "type": "string",
        "description": "The city, in English.",
        "default": "Paris",
    }
    assert params(f)["required"] == []


def test_recursive_types_are_refused() -> None:
    def f(tree: Node) -> None:
        pass

    with pytest.raises(ToolSchemaError, match=r"f\(tree\).children: Node refers to itself"):
        schema_for(f)


def test_strict_closes_every_object() -> None:
    def f(place: Place, table: dict[str, int]) -> None:
        pass

    fn = schema_for(f, strict=True)["function"]
    assert fn["strict"] is True
    assert fn["parameters"]["additionalProperties"] is False
    assert fn["parameters"]["properties"]["place"]["additionalProperties"] is False
    assert fn["parameters"]["properties"]["table"]["additionalProperties"] == {"type": "integer"}
    assert "additionalProperties" not in schema_for(f)["function"]["parameters"]


def test_schema_error_is_an_nscale_error_naming_the_parameter() -> None:
    def f(good: int, bad) -> None:  # type: ignore[no-untyped-def]
        pass

    with pytest.raises(NscaleError, match=r"f\(bad\): add a type hint"):
        schema_for(f)


GOOGLE = """Find flights.

Longer text that is not the summary.

Args:
    origin: Where from, as an IATA code
        such as CDG.
    when (str): The day.

Returns:
    flights: not a parameter.
"""

NUMPY = """Find flights.

Parameters
----------
origin : str
    Where from, as an IATA code
    such as CDG.
when
    The day.

Returns
-------
flights : list
    not a parameter.
"""

SPHINX = """Find flights.

:param origin: Where from, as an IATA code
    such as CDG.
:param str when: The day.
:returns: flights, not a parameter.
"""


@pytest.mark.parametrize("doc", [GOOGLE, NUMPY, SPHINX], ids=["google", "numpy", "sphinx"])
def test_multiline_descriptions_and_later_sections(doc: str) -> None:
    summary, params = parse_docstring(doc)
    assert summary == "Find flights."
    assert params == {"origin": "Where from, as an IATA code such as CDG.", "when": "The day."}


def test_docstring_edge_cases() -> None:
    assert parse_docstring(None) == ("", {})
    assert parse_docstring("Two\nlines.") == ("Two lines.", {})
    assert parse_docstring("\nArgs:\n    x: The x.") == ("", {"x": "The x."})
    # an indented docstring (as written in a function body) parses the same
    assert parse_docstring("Do.\n\n        Args:\n            x: The x.\n")[1] == {"x": "The x."}
