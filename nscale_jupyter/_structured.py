"""Structured answers: a JSON schema, dataclass or TypedDict -> ``response_format`` and columns.

Pure: the schema comes from :mod:`_schema`'s type machinery, and an answer is
checked as lightly as tool arguments are (``check_arguments``). An answer
that does not parse or fit is flagged with the reason, never dropped.
"""

from __future__ import annotations

import dataclasses
import json
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._options import OptionError
from ._schema import ToolSchemaError, check_arguments, type_schema

__all__ = ["OutputSpec", "output_spec"]

_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(.*?)\n\s*```\s*$", re.S)


@dataclass(frozen=True)
class OutputSpec:
    """What each answer should be: the schema sent, and how to read an answer back."""

    name: str
    schema: Mapping[str, Any]

    @property
    def response_format(self) -> dict[str, Any]:
        return {"type": "json_schema", "json_schema": {"name": self.name, "schema": self.schema}}

    @property
    def columns(self) -> tuple[str, ...]:
        """The object's properties (the columns of a table), or ``("value",)``."""
        props = self.schema.get("properties")
        return tuple(props) if isinstance(props, Mapping) and props else ("value",)

    def parse(self, text: str) -> tuple[dict[str, Any] | None, str | None]:
        """(fields, problem): fields when the answer is JSON (problem when it does not fit)."""
        match = _FENCE.match(text)
        try:
            value = json.loads(match.group(1) if match else text)
        except (ValueError, RecursionError) as exc:
            return None, f"not JSON: {exc}"
        value, problems = check_arguments(self.schema, value, "")
        fields = value if isinstance(value, dict) and "properties" in self.schema else None
        if fields is None:
            fields = {"value": value}
        return dict(fields), ("; ".join(problems) if problems else None)


def output_spec(output: Any) -> OutputSpec:
    """``output=``: a JSON schema (dict), a dataclass or a TypedDict."""
    if isinstance(output, Mapping):
        schema = dict(output)
        if schema.get("type") == "json_schema" and isinstance(schema.get("json_schema"), Mapping):
            inner = schema["json_schema"]
            return OutputSpec(str(inner.get("name", "answer")), dict(inner.get("schema", {})))
        return OutputSpec(_name(str(schema.get("title", "answer"))), schema)
    if isinstance(output, type) and (
        dataclasses.is_dataclass(output) or typing.is_typeddict(output)
    ):
        try:
            schema = type_schema(output, output.__name__)
        except ToolSchemaError as exc:
            raise OptionError(f"output: {exc}") from None
        return OutputSpec(_name(output.__name__), schema)
    raise OptionError(
        f"output: expected a JSON schema (dict), a dataclass or a TypedDict, "
        f"got {type(output).__name__}"
    )


def _name(text: str) -> str:
    """A ``json_schema`` name: letters, digits, _ and - only."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", text)[:64] or "answer"
