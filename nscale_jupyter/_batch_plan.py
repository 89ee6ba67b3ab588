"""A batch's plan: every row filled and every option checked before anything is sent.

``fill`` puts a row's fields into the prompt template; ``plan_batch`` turns the
items (strings, dicts or a DataFrame) into ``Job``s, each keyed by its filled
prompt and the request options as sent (inline > settings), so a checkpoint
never hands back a stale row. A grid's plan (``_grid``) is made of the same jobs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._options import OptionError, option
from ._rows import row_key
from ._structured import OutputSpec, output_spec
from ._turn import TurnSpec

if TYPE_CHECKING:
    from ._session import Session

__all__ = ["BatchPlan", "Job", "fill", "plan_batch", "turn_options"]

_FIELD = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")
#: Keyword arguments that shape the turn rather than the request.
_TURN_KEYS = ("stream", "include_usage")


def fill(template: str, fields: Mapping[str, Any], where: str = "") -> str:
    """``"Summarise: {text}"`` with the row's fields; ``{{``/``}}`` are braces, and
    braces around anything but a name (JSON in the prompt) stay as written."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return match.group(0)[0]
        if name not in fields:
            have = ", ".join(fields) or "none"
            raise OptionError(f"prompt{where}: no field {{{name}}} (the row has: {have})")
        return str(fields[name])

    return _FIELD.sub(one, template)


def _records(items: Any) -> tuple[list[Any], Any]:
    """(records, the DataFrame when one was given): pandas is never imported here."""
    if type(items).__name__ == "DataFrame" and hasattr(items, "to_dict"):
        return list(items.to_dict("records")), items
    if isinstance(items, str | bytes | Mapping) or not isinstance(items, Iterable):
        raise OptionError(
            "batch: items must be a list of strings, a list of dicts or a DataFrame, "
            f"not {type(items).__name__}"
        )
    return list(items), None


def _prompt(item: Any, template: str | None, i: int) -> str:
    where = f" (row {i})"
    if isinstance(item, str):
        return item if template is None else fill(template, {"item": item}, where)
    if isinstance(item, Mapping):
        fields = {str(k): v for k, v in item.items()}
        if template is not None:
            return fill(template, fields, where)
        if isinstance(fields.get("prompt"), str):
            return str(fields["prompt"])
        raise OptionError(f"batch{where}: a dict row needs a prompt template (or a 'prompt')")
    raise OptionError(f"batch{where}: expected a string or a dict, got {type(item).__name__}")


def turn_options(options: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(request options checked by the option table, turn keywords) from ``**options``."""
    opts = dict(options)
    turn = {k: opts.pop(k) for k in _TURN_KEYS if k in opts}
    extra = dict(opts.pop("extra", None) or {})
    checked = {option(k).name: option(k).validate(v) for k, v in opts.items() if v is not None}
    if extra:
        turn["extra"] = extra
    return checked, turn


@dataclass(frozen=True, slots=True)
class Job:
    """One request of a batch or grid: its row, its text, its options (for the key)."""

    index: int
    prompt: str
    key: str
    options: Mapping[str, Any] | None = None  # None: the batch's shared options


@dataclass(frozen=True)
class BatchPlan:
    """A batch, checked and filled before anything is sent."""

    jobs: tuple[Job, ...]
    spec: TurnSpec
    output: OutputSpec | None = None
    concurrency: int = 8
    checkpoint: str | None = None
    retries: int | None = None  # the batch's budget of 429 retries (None: 4 per row, +20)
    source: Any = None


def plan_batch(
    session: Session,
    items: Any,
    prompt: str | None = None,
    *,
    concurrency: int = 8,
    checkpoint: str | None = None,
    output: Any = None,
    retries: int | None = None,
    **options: Any,
) -> BatchPlan:
    """Fill every row and check the options now (a bad one raises; nothing is sent)."""
    if concurrency < 1:
        raise OptionError("batch: concurrency must be at least 1")
    records, frame = _records(items)
    checked, turn = turn_options(options)
    spec_out = output_spec(output) if output is not None else None
    if spec_out is not None:
        checked["response_format"] = spec_out.response_format
    turn.setdefault("stream", False)  # one JSON body a row: less work than a stream
    spec = TurnSpec(options=checked, tools=(), record=False, run_tools=False, **turn)
    sent = session.options_for(spec)  # inline > settings: what the key must cover
    sent.update(turn.get("extra", {}))
    jobs = []
    for i, item in enumerate(records):
        text = _prompt(item, prompt, i)
        jobs.append(Job(i, text, row_key(text, sent)))
    return BatchPlan(tuple(jobs), spec, spec_out, concurrency, checkpoint, retries, source=frame)
