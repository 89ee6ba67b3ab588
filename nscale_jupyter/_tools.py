"""Python functions as tools: the registry, running calls, and the call loop.

Session layer: no IPython and no display imports. Schemas come from
:mod:`._schema`; the turn engine (:mod:`._turn`) runs the loop: it sends,
runs a round's calls with :func:`run_calls`, and sends their results back.

>>> @tool
... def get_weather(city: str, unit: Literal["c", "f"] = "c") -> dict:
...     '''Get the current weather in a city.
...
...     Args:
...         city: The city name.
...         unit: Celsius or Fahrenheit.
...     '''
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import inspect
import json
import time
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, get_args, get_origin, get_type_hints, overload

from ._schema import ToolSchemaError, check_arguments, schema_for
from ._types import Message, ToolCall

__all__ = [
    "INTERRUPTED",
    "ToolOutcome",
    "ToolRegistry",
    "ToolSchemaError",
    "default_registry",
    "execute",
    "resolve_tools",
    "run_calls",
    "schema_for",
    "tool",
    "tool_schemas",
]

F = TypeVar("F", bound=Callable[..., Any])
JSON = dict[str, Any]


# -- the registry ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Tool:
    schema: JSON
    fn: Callable[..., Any] | None  # None: a raw schema, shown but not run

    @property
    def name(self) -> str:
        return str(self.schema["function"]["name"])


class ToolRegistry:
    """Named tools: Python functions (run by the loop) and raw OpenAI-style schemas."""

    def __init__(self) -> None:
        self._tools: dict[str, _Tool] = {}

    def register(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        strict: bool | None = None,
    ) -> JSON:
        schema = schema_for(fn, name=name, description=description, strict=strict)
        self._tools[schema["function"]["name"]] = _Tool(schema, fn)
        return schema

    def add_schema(self, schema: Mapping[str, Any]) -> None:
        """A raw OpenAI-style tool: offered and shown, answered by a person."""
        checked = _checked_dict(schema, "add_schema")
        self._tools[checked["function"]["name"]] = _Tool(checked, None)

    def names(self) -> list[str]:
        return sorted(self._tools)

    def get(self, name: str) -> Callable[..., Any] | None:
        tool = self._tools.get(name)
        return tool.fn if tool else None

    def schemas(self, names: Iterable[str] | None = None) -> tuple[JSON, ...]:
        chosen = self.names() if names is None else list(names)
        missing = [n for n in chosen if n not in self._tools]
        if missing:
            raise KeyError(
                f"no tool named {', '.join(missing)}; registered: "
                f"{', '.join(self.names()) or 'none'}"
            )
        return tuple(self._tools[n].schema for n in chosen)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __len__(self) -> int:
        return len(self._tools)


_default = ToolRegistry()


def default_registry() -> ToolRegistry:
    """The registry ``@tool`` adds to (the magics' session uses it)."""
    return _default


@overload
def tool(fn: F, /) -> F: ...
@overload
def tool(
    *,
    name: str | None = ...,
    description: str | None = ...,
    strict: bool | None = ...,
    registry: ToolRegistry | None = ...,
) -> Callable[[F], F]: ...
def tool(
    fn: Any = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool | None = None,
    registry: ToolRegistry | None = None,
) -> Any:
    """Register a function as a tool (``@tool`` or ``@tool(name=..., strict=True)``)."""

    def register(f: F) -> F:
        (registry if registry is not None else _default).register(
            f, name=name, description=description, strict=strict
        )
        return f

    return register(fn) if fn is not None else register


# -- running calls -----------------------------------------------------------------------------
#: The content of a call a turn was interrupted during.
INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class ToolOutcome:
    """What running one call gave: the text sent back to the model, and the value."""

    call: ToolCall
    ok: bool
    content: str
    value: Any = None
    elapsed: float = 0.0

    @property
    def status(self) -> str:
        """How a tool card shows it: ``done``, ``error``, or ``interrupted`` (Ctrl-C)."""
        if self.ok:
            return "done"
        return "interrupted" if self.content == INTERRUPTED else "error"

    def to_message(self) -> Message:
        return Message.tool(self.call.id or "", self.content)


def _to_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str, ensure_ascii=False)


async def execute(call: ToolCall, registry: ToolRegistry) -> ToolOutcome:
    """Run one call; every failure becomes an error text for the model, never a crash.

    A sync function runs in a worker thread so a slow tool does not block the
    event loop (nor the other calls of the round).
    """
    start = time.perf_counter()

    def failed(message: str) -> ToolOutcome:
        return ToolOutcome(call, False, f"Error: {message}", None, time.perf_counter() - start)

    fn = registry.get(call.name or "")
    if fn is None:
        known = ", ".join(n for n in registry.names() if registry.get(n)) or "none"
        return failed(f"no tool named {call.name!r}; available tools: {known}")
    args = call.args
    if args is None:
        return failed(f"the arguments are not a JSON object: {call.arguments!r}")
    schema = registry.schemas([call.name or ""])[0]["function"]["parameters"]
    try:  # ValueError also covers values past Python's limits (a 5,000-digit int)
        args, problems = check_arguments(schema, args)
        kwargs = _build_args(fn, args) if not problems else {}
    except (TypeError, ValueError, RecursionError) as exc:
        problems = [str(exc)]
    if problems:
        return failed(f"bad arguments for {call.name}: {'; '.join(problems)}")
    try:
        if inspect.iscoroutinefunction(fn):
            value = await fn(**kwargs)
        else:
            value = await asyncio.to_thread(fn, **kwargs)
            if inspect.isawaitable(value):
                value = await value
        text = _to_text(value)
    except Exception as exc:
        return failed(f"{type(exc).__name__}: {exc}")
    return ToolOutcome(call, True, text, value, time.perf_counter() - start)


def _build_args(fn: Callable[..., Any], args: Mapping[str, Any]) -> dict[str, Any]:
    """JSON arguments to Python ones: dataclasses, enums, tuples and sets built."""
    hints = get_type_hints(fn)
    return {name: _from_json(hints.get(name, Any), value) for name, value in args.items()}


def _from_json(hint: Any, value: Any) -> Any:
    origin, args = get_origin(hint), get_args(hint)
    if value is None:
        return None
    if origin in (typing.Union, types.UnionType):
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _from_json(option, value)
            except (TypeError, ValueError) as exc:
                errors.append(exc)
        raise errors[0] if errors else TypeError(f"{value!r} fits no option of {hint!r}")
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type) and isinstance(value, dict):
        hints = get_type_hints(hint)
        return hint(**{k: _from_json(hints.get(k, Any), v) for k, v in value.items()})
    if hint is float and isinstance(value, int):
        return float(value)
    if isinstance(value, list) and origin in (list, Sequence, Iterable, set, frozenset, tuple):
        if origin is tuple and args and args[-1] is not Ellipsis:
            return tuple(_from_json(a, v) for a, v in zip(args, value, strict=True))
        items = [_from_json(args[0] if args else Any, v) for v in value]
        return items if origin in (list, Sequence, Iterable) else origin(items)
    if isinstance(value, dict) and origin in (dict, Mapping) and len(args) == 2:
        return {k: _from_json(args[1], v) for k, v in value.items()}
    return value


# -- one round of calls -----------------------------------------------------------------------
async def run_calls(
    calls: Iterable[ToolCall],
    registry: ToolRegistry,
    on_outcome: Callable[[ToolOutcome], None] | None = None,
) -> list[ToolOutcome]:
    """Run one round's calls concurrently; ``on_outcome`` hears each as it finishes.

    The outcomes come back in call order (the tool messages follow the calls).
    """

    async def one(call: ToolCall) -> ToolOutcome:
        outcome = await execute(call, registry)
        if on_outcome is not None:
            on_outcome(outcome)
        return outcome

    return list(await asyncio.gather(*(one(c) for c in calls)))


# -- choosing tools for a request --------------------------------------------------------------
def tool_schemas(value: Any, registry: ToolRegistry, where: str = "tools") -> tuple[JSON, ...]:
    """The ``tools`` of a request from what a user offers.

    ``value`` is None, a name or ``"a,b"`` (registered tools), an OpenAI-style
    tool dict, a Python function (registered on the way, so the loop can run
    it), or a list of any of these. Raises KeyError for an unknown name and
    ToolSchemaError for a value that is not a tool.
    """
    if value is None:
        return ()
    items = list(value) if isinstance(value, list | tuple) else [value]
    out: list[JSON] = []
    for i, item in enumerate(items):
        at = where if len(items) == 1 else f"{where}[{i}]"
        if isinstance(item, str):
            out.extend(registry.schemas(n.strip() for n in item.split(",") if n.strip()))
        elif isinstance(item, Mapping):
            out.append(_checked_dict(item, at))
        elif callable(item):
            out.append(registry.register(item))
        else:
            raise ToolSchemaError(
                f"{at}: expected a function or an OpenAI-style tool dict, "
                f"got {type(item).__name__}"
            )
    return tuple(out)


def resolve_tools(
    spec: str | None, registry: ToolRegistry, namespace: Mapping[str, Any]
) -> tuple[JSON, ...]:
    """The ``tools`` of a request from ``--tools SPEC``: ``"a,b"`` (registered names)
    or the name of a notebook variable holding what :func:`tool_schemas` takes."""
    spec = (spec or "").strip()
    if (
        spec.isidentifier()
        and spec in namespace
        and not _is_registered_fn(spec, registry, namespace)
    ):
        value = namespace[spec]
        if value is None or isinstance(value, str):
            raise ToolSchemaError(
                f"{spec}: expected a function or an OpenAI-style tool dict, "
                f"got {type(value).__name__}"
            )
        return tool_schemas(value, registry, spec)
    return tool_schemas(spec or None, registry)


def _is_registered_fn(name: str, registry: ToolRegistry, namespace: Mapping[str, Any]) -> bool:
    """``--tools get_weather`` where get_weather is the registered function itself."""
    return name in registry and registry.get(name) is namespace[name]


def _checked_dict(item: Mapping[str, Any], where: str) -> JSON:
    """An OpenAI-style tool dict, checked: a named function, and JSON throughout."""
    function = item.get("function") if item.get("type") == "function" else None
    if (
        not isinstance(function, Mapping)
        or not function.get("name")
        or not isinstance(function["name"], str)
    ):
        raise ToolSchemaError(
            f'{where}: expected {{"type": "function", "function": {{"name": ...}}}}'
        )
    try:  # it is sent as JSON: refuse now what the request could not carry
        json.dumps(item, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ToolSchemaError(f"{where}: not JSON ({exc})") from None
    return dict(item)
