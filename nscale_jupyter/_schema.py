"""JSON schemas for Python functions, and the light argument check against them.

The schema comes from the signature, the type hints and the docstring
(Google, NumPy or Sphinx style), so a plain typed function becomes a tool
with no extra declarations. What a schema cannot describe fails here, at
registration, naming the parameter: a model should never see a tool we
could not call correctly.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import json
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import (
    Annotated,
    Any,
    Literal,
    get_args,
    get_origin,
    get_type_hints,
)

from ._exceptions import NscaleError

__all__ = ["ToolSchemaError", "check_arguments", "parse_docstring", "schema_for"]

JSON = dict[str, Any]


class ToolSchemaError(NscaleError, TypeError):
    """A function whose parameters a JSON schema cannot describe."""


# -- docstrings --------------------------------------------------------------------------------
_GOOGLE = re.compile(r"(Args|Arguments|Parameters|Keyword Args|Keyword Arguments):")
_GOOGLE_ENTRY = re.compile(r"\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:(.*)")
_NUMPY_ENTRY = re.compile(r"(\w+)\s*(?::.*)?")
_SPHINX = re.compile(r":param\s+(?:[^:]*\s)?(\w+)\s*:(.*)")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _entries(lines: list[str], entry: re.Pattern[str], end: _End) -> dict[str, str]:
    """{name: description} from an indented block: entries at the block's own indent,
    continuation lines deeper; the block ends where ``end(lines, i)`` or the indent drops."""
    out: dict[str, list[str]] = {}
    base: int | None = None
    current: list[str] | None = None
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if end(lines, i) or (base is not None and _indent(line) < base):
            break
        base = _indent(line) if base is None else base
        match = entry.fullmatch(line.strip()) if _indent(line) == base else None
        if match:
            current = out.setdefault(match.group(1), [])
            if match.lastindex and match.lastindex > 1 and match.group(2).strip():
                current.append(match.group(2).strip())
        elif current is not None and _indent(line) > base:
            current.append(line.strip())
    return {name: " ".join(words) for name, words in out.items() if words}


_End = Callable[[list[str], int], bool]


def _sphinx_end(lines: list[str], i: int) -> bool:
    return i > 0 and lines[i].lstrip()[:1] == ":"  # the next :param / :returns: field


def _numpy_end(lines: list[str], i: int) -> bool:
    return _is_rule(_at(lines, i + 1))  # the next section's title


def _google_end(lines: list[str], i: int, *, header: int) -> bool:
    return _indent(lines[i]) <= header  # back at the "Args:" line's indent


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """(summary, {parameter: description}) from a Google, NumPy or Sphinx docstring."""
    lines = inspect.cleandoc(doc or "").splitlines()
    summary: list[str] = []
    for line in lines:
        text = line.strip()
        if not text or text.startswith(":") or _GOOGLE.fullmatch(text) or text == "Parameters":
            break
        summary.append(text)
    params: dict[str, str] = {}
    for i, line in enumerate(lines):
        text, rest = line.strip(), lines[i + 1 :]
        found: dict[str, str] = {}
        if text.startswith(":param"):
            found = _entries(lines[i:], _SPHINX, _sphinx_end)
        elif _GOOGLE.fullmatch(text):
            found = _entries(rest, _GOOGLE_ENTRY, partial(_google_end, header=_indent(line)))
        elif text in ("Parameters", "Other Parameters") and _is_rule(_at(rest, 0)):
            found = _entries(rest[1:], _NUMPY_ENTRY, _numpy_end)
        for name, value in found.items():
            params.setdefault(name, value)
    return " ".join(summary), params


def _at(lines: list[str], i: int) -> str:
    return lines[i].strip() if i < len(lines) else ""


def _is_rule(text: str) -> bool:
    """A NumPy section underline."""
    return bool(re.fullmatch(r"-{3,}", text))


# -- types -------------------------------------------------------------------------------------
_SUPPORTED = (
    "str, int, float, bool, Literal, Enum, list, tuple, dict, Optional, a dataclass or a TypedDict"
)


def type_schema(hint: Any, where: str, seen: frozenset[Any] = frozenset()) -> JSON:
    """The JSON schema of one Python type hint; ``where`` names it in errors."""
    origin, args = get_origin(hint), get_args(hint)
    if _marker(origin):  # Required[X] / NotRequired[X]: the required list tells
        return type_schema(args[0], where, seen)
    if origin is Annotated:
        schema = type_schema(args[0], where, seen)
        notes = [a for a in args[1:] if isinstance(a, str)]
        return {**schema, "description": notes[0]} if notes else schema
    simple = {str: "string", bool: "boolean", int: "integer", float: "number", type(None): "null"}
    if hint is Any:
        return {}
    if isinstance(hint, type) and hint in simple:
        return {"type": simple[hint]}
    if origin is Literal:
        kinds = {type(v) for v in args}
        schema = {"enum": list(args)}
        for python in (str, int, bool):
            if kinds == {python}:
                schema["type"] = simple[python]
        return schema
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        values = [m.value for m in hint]
        kind = next((simple[k] for k in (str, int) if all(type(v) is k for v in values)), None)
        if kind is None:
            raise ToolSchemaError(f"{where}: enum {hint.__name__} needs all-str or all-int values")
        return {"type": kind, "enum": values}
    if origin in (typing.Union, types.UnionType):
        inner = [type_schema(a, where, seen) for a in args if a is not type(None)]
        if type(None) in args:
            inner.append({"type": "null"})
        return inner[0] if len(inner) == 1 else {"anyOf": inner}
    if origin in (list, Sequence, Iterable, tuple, set, frozenset) or hint in (list, tuple):
        if origin is tuple and args and args[-1] is not Ellipsis:
            items = [type_schema(a, where, seen) for a in args]
            n = len(items)
            return {"type": "array", "prefixItems": items, "minItems": n, "maxItems": n}
        schema = {"type": "array", "items": type_schema(args[0] if args else Any, where, seen)}
        return {**schema, "uniqueItems": True} if origin in (set, frozenset) else schema
    if origin in (dict, Mapping) or hint is dict:
        if args and args[0] is not str:
            raise ToolSchemaError(f"{where}: JSON object keys are strings, not {args[0]!r}")
        value = args[1] if len(args) == 2 else Any
        return {"type": "object", "additionalProperties": type_schema(value, where, seen)}
    if isinstance(hint, type) and (dataclasses.is_dataclass(hint) or typing.is_typeddict(hint)):
        if hint in seen:
            raise ToolSchemaError(f"{where}: {hint.__name__} refers to itself; a tool schema "
                                  "cannot describe a recursive type")  # fmt: skip
        return _object_schema(hint, where, seen | {hint})
    raise ToolSchemaError(f"{where}: no JSON schema for type {hint!r} (use {_SUPPORTED})")


def _marker(origin: Any) -> str | None:
    """ "Required" / "NotRequired" for TypedDict markers (typing 3.11+ or typing_extensions)."""
    name = getattr(origin, "_name", None)
    return name if name in ("Required", "NotRequired") else None


def _object_schema(owner: type, where: str, seen: frozenset[Any]) -> JSON:
    """A dataclass or TypedDict as a nested object with its own required list."""
    hints = get_type_hints(owner, include_extras=True)
    if dataclasses.is_dataclass(owner):
        fields = [f.name for f in dataclasses.fields(owner)]
        required = {
            f.name
            for f in dataclasses.fields(owner)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        }
    else:
        fields, declared = list(hints), set(getattr(owner, "__required_keys__", hints))
        required = {  # NotRequired[...] under postponed annotations escapes __required_keys__
            k
            for k, h in hints.items()
            if _marker(get_origin(h)) == "Required"
            or (k in declared and _marker(get_origin(h)) != "NotRequired")
        }
    _, docs = parse_docstring(owner.__doc__)
    properties = {}
    for name in fields:
        prop = type_schema(hints[name], f"{where}.{name}", seen)
        if name in docs:
            prop.setdefault("description", docs[name])
        properties[name] = prop
    schema: JSON = {"type": "object", "properties": properties}
    if required:
        schema["required"] = [n for n in fields if n in required]
    return schema


def _strictly(schema: JSON) -> JSON:
    """Close every object schema (``additionalProperties: false``) for ``strict`` tools."""
    out = {k: (_strictly(v) if isinstance(v, dict) else
               [_strictly(x) if isinstance(x, dict) else x for x in v] if isinstance(v, list)
               else v) for k, v in schema.items()}  # fmt: skip
    if out.get("type") == "object" and "properties" in out:
        out.setdefault("additionalProperties", False)
    return out


def schema_for(
    fn: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool | None = None,
) -> JSON:
    """The OpenAI-style tool dict for ``fn``, from its signature, hints and docstring."""
    tool_name = name or str(getattr(fn, "__name__", ""))
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", tool_name):
        raise ToolSchemaError(f"tool name {tool_name!r}: use letters, digits, _ and - (<= 64)")
    try:
        hints = get_type_hints(fn, include_extras=True)
        signature = inspect.signature(fn)
    except Exception as exc:
        raise ToolSchemaError(f"{tool_name}: cannot read its signature ({exc})") from None
    summary, docs = parse_docstring(inspect.getdoc(fn))
    properties: dict[str, JSON] = {}
    required: list[str] = []
    for param in signature.parameters.values():
        where = f"{tool_name}({param.name})"
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            raise ToolSchemaError(f"{where}: only named parameters can be described "
                                  "(no *args, **kwargs or positional-only)")  # fmt: skip
        if param.name not in hints:
            raise ToolSchemaError(f"{where}: add a type hint (e.g. {param.name}: str)")
        prop = type_schema(hints[param.name], where)
        if param.name in docs:
            prop.setdefault("description", docs[param.name])
        if param.default is inspect.Parameter.empty:
            required.append(param.name)
        elif param.default is not None:
            default = (
                param.default.value if isinstance(param.default, enum.Enum) else param.default
            )
            if _jsonable(default):
                prop["default"] = json.loads(json.dumps(default))  # (1, 2) -> [1, 2]
        properties[param.name] = prop
    parameters: JSON = {"type": "object", "properties": properties, "required": required}
    function: JSON = {
        "name": tool_name,
        "description": description or summary or tool_name,
        "parameters": _strictly(parameters) if strict else parameters,
    }
    if strict is not None:
        function["strict"] = strict
    return {"type": "function", "function": function}


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


# -- checking arguments ------------------------------------------------------------------------
_KINDS: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
    "null": (type(None),), "array": (list,), "object": (dict,),
}  # fmt: skip


def check_arguments(
    schema: Mapping[str, Any], value: Any, where: str = ""
) -> tuple[Any, list[str]]:
    """(value with light coercions, problems) for ``value`` against ``schema``.

    Light on purpose: the model's JSON is accepted when its meaning is plain
    (``"3"`` for an integer, ``2`` for a float, ``"true"`` for a boolean);
    anything else becomes a problem the model is told about.
    """
    if "anyOf" in schema:
        for option in schema["anyOf"]:
            out, wrong = check_arguments(option, value, where)
            if not wrong:
                return out, []
        return value, [f"{where or 'arguments'}: {_short(value)} does not fit {_kinds(schema)}"]
    kind = schema.get("type")
    value = _coerce(kind, value)
    if kind in _KINDS and not _is(kind, value):
        return value, [f"{where or 'arguments'}: expected {kind}, got {_short(value)}"]
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(json.dumps(v, ensure_ascii=False) for v in schema["enum"])
        return value, [f"{where}: {_short(value)} is not one of {choices}"]
    problems: list[str] = []
    if isinstance(value, list):
        shapes = schema.get("prefixItems") or [schema.get("items", {})] * len(value)
        if len(shapes) != len(value):
            return value, [f"{where}: expected {len(shapes)} items, got {len(value)}"]
        value = [_collect(check_arguments(s, v, f"{where}[{i}]"), problems)
                 for i, (s, v) in enumerate(zip(shapes, value, strict=True))]  # fmt: skip
    elif isinstance(value, dict) and kind == "object":
        props: Mapping[str, Any] = schema.get("properties", {})
        extra = schema.get("additionalProperties", {} if not props else False)
        out = {}
        missing = [k for k in schema.get("required", ()) if k not in value]
        if missing:
            problems.append(f"missing {', '.join(_dot(where, k) for k in missing)}")
        unknown = [k for k in value if k not in props and extra is False]
        if unknown:
            problems.append(f"unknown {', '.join(_dot(where, k) for k in unknown)}")
        for key, item in value.items():
            shape = props.get(key, extra if isinstance(extra, dict) else {})
            out[key] = _collect(check_arguments(shape, item, _dot(where, key)), problems)
        value = out
    return value, problems


def _coerce(kind: Any, value: Any) -> Any:
    if kind == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind == "integer" and isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    if kind == "number" and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    if kind == "boolean" and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def _is(kind: str, value: Any) -> bool:
    if isinstance(value, bool) and kind in ("integer", "number"):
        return False
    return isinstance(value, _KINDS[kind])


def _collect(pair: tuple[Any, list[str]], problems: list[str]) -> Any:
    problems.extend(pair[1])
    return pair[0]


def _dot(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _kinds(schema: Mapping[str, Any]) -> str:
    return " or ".join(str(o.get("type", "any")) for o in schema.get("anyOf", ()))


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
