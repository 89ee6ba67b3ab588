"""Python functions as tools: schemas from signatures, running calls, the call loop.

Session layer: no IPython and no display imports.

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
import re
import time
import types
import typing
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints, overload

from ._exceptions import NscaleError
from ._types import ChatRequest, ChatResult, Message, ToolCall

__all__ = [
    "ToolLoop",
    "ToolLoopResult",
    "ToolOutcome",
    "ToolRegistry",
    "ToolSchemaError",
    "default_registry",
    "execute",
    "run_tool_loop",
    "schema_for",
    "tool",
]

F = TypeVar("F", bound=Callable[..., Any])
JSON = dict[str, Any]


class ToolSchemaError(NscaleError, TypeError):
    """A function whose parameters a JSON schema cannot describe."""


# -- schemas ---------------------------------------------------------------------------------
def _docstring(fn: Callable[..., Any]) -> tuple[str, dict[str, str]]:
    """(summary, {param: description}) from Google, NumPy or Sphinx style docstrings."""
    doc = inspect.getdoc(fn) or ""
    summary = doc.split("\n\n", 1)[0].strip().replace("\n", " ")
    params: dict[str, str] = {}
    for name, text in re.findall(r"^\s*:param\s+(?:\w+\s+)?(\w+):\s*(.+)$", doc, re.M):
        params[name] = text.strip()
    google = re.search(r"^(?:Args|Arguments|Parameters):\s*\n((?:[ \t]+.+\n?)+)", doc, re.M)
    if google:
        for name, text in re.findall(
            r"^[ \t]+(\w+)(?:\s*\([^)]*\))?:\s*(.+)$", google.group(1), re.M
        ):
            params.setdefault(name, text.strip())
    numpy = re.search(r"^Parameters\n-{3,}\n((?:.+\n?)+?)(?:\n\S|\Z)", doc, re.M)
    if numpy:
        for name, text in re.findall(r"^(\w+)\s*(?::[^\n]*)?\n[ \t]+(.+)$", numpy.group(1), re.M):
            params.setdefault(name, text.strip())
    return summary, params


def _type_schema(hint: Any, where: str) -> JSON:
    """The JSON schema of one Python type hint."""
    origin, args = get_origin(hint), get_args(hint)
    if hint is Any:
        return {}
    if hint is str:
        return {"type": "string"}
    if hint is bool:
        return {"type": "boolean"}
    if hint is int:
        return {"type": "integer"}
    if hint is float:
        return {"type": "number"}
    if hint is type(None):
        return {"type": "null"}
    if origin is Literal:
        values = list(args)
        kinds = {type(v) for v in values}
        schema: JSON = {"enum": values}
        if kinds <= {str}:
            schema["type"] = "string"
        elif kinds <= {int}:
            schema["type"] = "integer"
        return schema
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return {
            "type": "string" if all(isinstance(m.value, str) for m in hint) else "integer",
            "enum": [m.value for m in hint],
        }
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        inner = [_type_schema(a, where) for a in options]
        if len(args) != len(options):  # Optional[X]
            inner.append({"type": "null"})
        return inner[0] if len(inner) == 1 else {"anyOf": inner}
    if origin in (list, Sequence, Iterable, tuple, set, frozenset) or hint in (list, tuple):
        if origin is tuple and args and args[-1] is not Ellipsis:
            return {
                "type": "array",
                "prefixItems": [_type_schema(a, where) for a in args],
                "minItems": len(args),
                "maxItems": len(args),
            }
        item = args[0] if args else Any
        return {"type": "array", "items": _type_schema(item, where)}
    if origin in (dict, Mapping) or hint is dict:
        if args and args[0] is not str:
            raise ToolSchemaError(f"{where}: JSON object keys are strings, not {args[0]!r}")
        value = args[1] if len(args) == 2 else Any
        return {"type": "object", "additionalProperties": _type_schema(value, where)}
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _object_schema(
            {f.name: f.type for f in dataclasses.fields(hint)},
            hint,
            required={
                f.name
                for f in dataclasses.fields(hint)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            },
            where=where,
        )
    if typing.is_typeddict(hint):
        return _object_schema(
            get_type_hints(hint),
            hint,
            required=set(getattr(hint, "__required_keys__", ())),
            where=where,
        )
    raise ToolSchemaError(
        f"{where}: no JSON schema for type {hint!r} "
        "(use str, int, float, bool, Literal, Enum, list, dict, "
        "Optional, a dataclass or a TypedDict)"
    )


def _object_schema(
    fields: Mapping[str, Any], owner: Any, *, required: set[str], where: str
) -> JSON:
    hints = get_type_hints(owner) if isinstance(owner, type) else dict(fields)
    _, descriptions = _docstring(owner) if isinstance(owner, type) else ("", {})
    properties = {}
    for name in fields:
        prop = _type_schema(hints.get(name, fields[name]), f"{where}.{name}")
        if name in descriptions:
            prop["description"] = descriptions[name]
        properties[name] = prop
    schema: JSON = {"type": "object", "properties": properties}
    if required:
        schema["required"] = [n for n in fields if n in required]
    return schema


def schema_for(
    fn: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool | None = None,
) -> JSON:
    """The OpenAI-style tool dict for ``fn``, from its signature, hints and docstring."""
    tool_name = name or fn.__name__
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", tool_name):
        raise ToolSchemaError(f"tool name {tool_name!r}: use letters, digits, _ and - (<= 64)")
    try:
        hints = get_type_hints(fn)
    except Exception as exc:
        raise ToolSchemaError(f"{tool_name}: cannot read its type hints ({exc})") from None
    summary, docs = _docstring(fn)
    properties: dict[str, JSON] = {}
    required: list[str] = []
    for param in inspect.signature(fn).parameters.values():
        where = f"{tool_name}({param.name})"
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise ToolSchemaError(f"{where}: *args and **kwargs cannot be described")
        if param.name not in hints:
            raise ToolSchemaError(f"{where}: add a type hint (e.g. {param.name}: str)")
        prop = _type_schema(hints[param.name], where)
        if param.name in docs:
            prop["description"] = docs[param.name]
        if param.default is inspect.Parameter.empty:
            required.append(param.name)
        elif param.default is not None and _jsonable(param.default):
            prop["default"] = (
                param.default.value if isinstance(param.default, enum.Enum) else (param.default)
            )
        properties[param.name] = prop
    parameters: JSON = {"type": "object", "properties": properties, "required": required}
    function: JSON = {
        "name": tool_name,
        "description": description or summary or tool_name,
        "parameters": parameters,
    }
    if strict is not None:
        function["strict"] = strict
    return {"type": "function", "function": function}


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value.value if isinstance(value, enum.Enum) else value)
    except (TypeError, ValueError):
        return False
    return True


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
        function = schema.get("function") if schema.get("type") == "function" else None
        if not isinstance(function, Mapping) or not function.get("name"):
            raise ToolSchemaError('expected {"type": "function", "function": {"name": ...}}')
        self._tools[str(function["name"])] = _Tool(dict(schema), None)

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
@dataclass(frozen=True)
class ToolOutcome:
    """What running one call gave: the text sent back to the model, and the value."""

    call: ToolCall
    ok: bool
    content: str
    value: Any = None
    elapsed: float = 0.0

    def to_message(self) -> Message:
        return Message.tool(self.call.id or "", self.content)


def _to_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str, ensure_ascii=False)


async def execute(call: ToolCall, registry: ToolRegistry) -> ToolOutcome:
    """Run one call; every failure becomes an error text for the model, never a crash."""
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
    missing = [p for p in schema.get("required", ()) if p not in args]
    unknown = [a for a in args if a not in schema.get("properties", {})]
    if missing or unknown:
        parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
            [f"unknown {', '.join(unknown)}"] if unknown else []
        )
        return failed(f"bad arguments for {call.name}: {'; '.join(parts)}")
    kwargs = _build_args(fn, args)
    try:
        if inspect.iscoroutinefunction(fn):
            value = await fn(**kwargs)
        else:
            value = await asyncio.to_thread(fn, **kwargs)
            if inspect.isawaitable(value):
                value = await value
    except Exception as exc:
        return failed(f"{type(exc).__name__}: {exc}")
    return ToolOutcome(call, True, _to_text(value), value, time.perf_counter() - start)


def _build_args(fn: Callable[..., Any], args: Mapping[str, Any]) -> dict[str, Any]:
    """JSON arguments to Python ones: dataclasses and enums built from their JSON."""
    hints = get_type_hints(fn)
    out = {}
    for name, value in args.items():
        out[name] = _from_json(hints.get(name, Any), value)
    return out


def _from_json(hint: Any, value: Any) -> Any:
    origin, args = get_origin(hint), get_args(hint)
    if origin in (typing.Union, types.UnionType):
        for option in args:
            if option is not type(None) and value is not None:
                return _from_json(option, value)
        return value
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type) and isinstance(value, dict):
        hints = get_type_hints(hint)
        return hint(**{k: _from_json(hints.get(k, Any), v) for k, v in value.items()})
    if hint is float and isinstance(value, int):
        return float(value)
    if origin in (list, Sequence) and args and isinstance(value, list):
        return [_from_json(args[0], v) for v in value]
    return value


# -- the loop ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ToolLoopResult:
    """Every round's result, the messages to add to history, and how it ended."""

    final: ChatResult
    rounds: tuple[ChatResult, ...]
    messages: tuple[Message, ...]  # assistant tool-call turns, tool results, final answer
    outcomes: tuple[ToolOutcome, ...] = ()
    limit_reached: bool = False
    pending: tuple[ToolCall, ...] = field(default=())  # calls left for a person to answer


class ToolLoop:
    """The loop's bookkeeping, shared by the async driver and the magic's sync one.

    ``request()`` gives the next request; ``take(result)`` returns the calls to
    run (or None when the loop is over); ``add(outcomes)`` records their results.
    """

    def __init__(
        self,
        request: ChatRequest,
        registry: ToolRegistry,
        *,
        max_rounds: int = 5,
        run_tools: bool = True,
    ) -> None:
        self._request = request
        self._registry = registry
        self.max_rounds = max(1, max_rounds)
        self.run_tools = run_tools
        self.rounds: list[ChatResult] = []
        self.added: list[Message] = []
        self.outcomes: list[ToolOutcome] = []
        self.limit_reached = False
        self.pending: tuple[ToolCall, ...] = ()

    def request(self) -> ChatRequest:
        return self._request.replace(messages=(*self._request.messages, *self.added))

    def take(self, result: ChatResult) -> tuple[ToolCall, ...] | None:
        self.rounds.append(result)
        self.added.append(result.choice.to_message())
        calls = result.tool_calls
        if not calls:
            return None
        schema_only = [
            c
            for c in calls
            if c.name in self._registry and self._registry.get(c.name or "") is None
        ]
        if not self.run_tools or schema_only:
            self.pending = calls  # for a person to answer (%chat tool-result)
            return None
        return calls

    def add(self, outcomes: Iterable[ToolOutcome]) -> bool:
        """Record results; True when another round should be sent."""
        for outcome in outcomes:
            self.outcomes.append(outcome)
            self.added.append(outcome.to_message())
        if len(self.rounds) >= self.max_rounds:
            self.limit_reached = True
            return False
        return True

    def result(self) -> ToolLoopResult:
        return ToolLoopResult(
            self.rounds[-1],
            tuple(self.rounds),
            tuple(self.added),
            tuple(self.outcomes),
            self.limit_reached,
            self.pending,
        )


async def run_tool_loop(
    send: Callable[[ChatRequest], Awaitable[ChatResult]],
    request: ChatRequest,
    registry: ToolRegistry,
    *,
    max_rounds: int = 5,
    run_tools: bool = True,
    on_outcome: Callable[[ToolOutcome], None] | None = None,
) -> ToolLoopResult:
    """Send, run the tool calls the model makes (concurrently), send the results back,
    until the model answers without calls or ``max_rounds`` requests were sent."""
    loop = ToolLoop(request, registry, max_rounds=max_rounds, run_tools=run_tools)
    while True:
        calls = loop.take(await send(loop.request()))
        if calls is None:
            return loop.result()
        outcomes = await asyncio.gather(*(execute(c, registry) for c in calls))
        for outcome in outcomes:
            if on_outcome is not None:
                on_outcome(outcome)
        if not loop.add(outcomes):
            return loop.result()


def tool_result_message(call_id: str, value: str, pending: Iterable[ToolCall]) -> Message:
    """A person's answer to a pending call (``%chat tool-result ID VALUE``)."""
    ids = [c.id for c in pending]
    if call_id not in ids:
        listed = ", ".join(map(str, ids)) or "none"
        raise KeyError(f"no pending tool call {call_id!r}; pending: {listed}")
    return Message.tool(call_id, value)
