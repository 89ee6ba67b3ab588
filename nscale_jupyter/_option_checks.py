"""The option table's value checks: the fields that take more than a number or a word.

JSON text, ``logit_bias``, ``response_format``, ``tool_choice``, ``stop`` and
JSON objects are checked (and normalised to what the API wants) here; each
check gets the option's flag, so its message names the option.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["CHECKS", "OptionError", "loads"]


class OptionError(ValueError):
    """A bad option value; the message names the option and says what is allowed."""


def loads(flag: str, text: str) -> Any:
    """JSON text as written for option ``flag``; OptionError names the flag."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise OptionError(f"{flag}: not valid JSON ({exc.msg}, column {exc.colno})") from None
    except RecursionError:
        raise OptionError(f"{flag}: JSON nested too deeply") from None


def _check_logit_bias(flag: str, value: Any) -> dict[str, float]:
    if not isinstance(value, Mapping):
        raise OptionError(f'{flag}: expected token id -> bias, e.g. {{"42": -100}}')
    out: dict[str, float] = {}
    for key, bias in value.items():
        if not str(key).lstrip("-").isdigit():
            raise OptionError(f"{flag}: token ids are whole numbers, got {key!r}")
        if isinstance(bias, bool) or not isinstance(bias, int | float) or not -100 <= bias <= 100:
            raise OptionError(f"{flag}: bias for token {key} must be in [-100, 100]")
        out[str(int(key))] = float(bias)
    return out


def _check_response_format(flag: str, value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        if value in ("text", "json_object"):
            return {"type": value}
        value = loads(flag, value)
    if not isinstance(value, Mapping):
        raise OptionError(f"{flag}: expected text, json_object or a JSON schema")
    if value.get("type") in ("text", "json_object", "json_schema", "structural_tag"):
        if value["type"] == "json_schema" and not isinstance(value.get("json_schema"), Mapping):
            raise OptionError(f"{flag}: a json_schema format needs a 'json_schema' object")
        return dict(value)
    # A bare JSON schema: wrap it the way the API wants.
    return {
        "type": "json_schema",
        "json_schema": {"name": str(value.get("title", "response")), "schema": dict(value)},
    }


def _check_tool_choice(flag: str, value: Any) -> str | dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    if not isinstance(value, str) or not value:
        raise OptionError(f"{flag}: expected auto, none, required or a tool name")
    if value in ("auto", "none", "required"):
        return value
    return {"type": "function", "function": {"name": value}}


def _check_stop(flag: str, value: Any) -> tuple[str, ...]:
    stops = (value,) if isinstance(value, str) else tuple(value)
    if not all(isinstance(s, str) and s for s in stops):
        raise OptionError(f"{flag}: stop strings must be non-empty text")
    return stops


def _check_json_object(flag: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise OptionError(f"{flag}: expected a JSON object")
    return dict(value)


#: The check (and normaliser) of each option that has one, by API name.
CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "logit_bias": _check_logit_bias,
    "response_format": _check_response_format,
    "tool_choice": _check_tool_choice,
    "stop": _check_stop,
    "chat_template_kwargs": _check_json_object,
}
