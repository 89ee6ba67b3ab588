"""From a magic's parsed flags to the turn it asks for: options, extras, tools, images.

Each flag's text is parsed and validated by the option table; a JSON option
or an image may name a notebook variable instead. A bad value is a
``UsageError`` naming the flag (an ``OptionError`` from ``inline_options`` and
``extra_fields``, which the batch path reports itself). Face layer; no requests.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from IPython.core.error import UsageError

from ._exceptions import ImageError
from ._interpolate import InterpolationError, interpolate, value_of
from ._options import KNOWN_EXTRAS, OPTIONS, OptionError
from ._session import Session
from ._turn import TurnSpec
from ._types import ImagePart, Message

__all__ = ["cell_spec", "extra_fields", "image_parts", "inline_options"]


def cell_spec(
    args: Any, text: str, session: Session, ns: Mapping[str, Any], *, say: Callable[[str], None]
) -> TurnSpec:
    """The turn a cell asks for (checked: a bad option is a UsageError)."""
    if args.max_tool_rounds is not None and args.max_tool_rounds < 1:
        raise UsageError("--max-tool-rounds: at least 1")
    try:
        options = inline_options(args, ns)
        extra = extra_fields(args)
    except OptionError as exc:
        raise UsageError(str(exc)) from None
    return TurnSpec(
        prompt=(Message.prompt(text, image_parts(args, ns, say)),),
        thread=args.thread or session.current,
        options=options,
        tools=_tools(getattr(args, "tools", None), session, ns),
        extra=extra,
        stream=False if args.no_stream else None,
        include_usage=False if args.no_usage else None,
        max_tool_rounds=args.max_tool_rounds,
        run_tools=False if args.no_run_tools else None,
    )


def inline_options(args: Any, ns: Mapping[str, Any]) -> dict[str, Any]:
    """Inline request options, parsed and validated by the option table."""
    out: dict[str, Any] = {}
    for opt in OPTIONS:
        raw = getattr(args, opt.name)
        if raw is None or opt.name == "tools":
            continue
        if opt.name == "stop":
            out["stop"] = opt.validate(tuple(raw))
        elif opt.kind == "json" and raw.isidentifier() and raw in ns:
            out[opt.name] = opt.validate(ns[raw])  # a variable holding the value
        else:
            out[opt.name] = opt.parse(raw)
    return out


def extra_fields(args: Any) -> dict[str, Any]:
    """``--extra KEY=VALUE``: vLLM fields the client knows (``!KEY`` forces another)."""
    extra: dict[str, Any] = {}
    for item in args.extra or ():
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise OptionError(f"--extra: expected KEY=VALUE, got {item!r}")
        forced = key.startswith("!")
        key = key.lstrip("!")
        if key not in KNOWN_EXTRAS and not forced:
            raise OptionError(
                f"--extra: unknown vLLM field {key!r} (vLLM ignores unknown fields "
                f"silently; write --extra !{key}=... to send it anyway)"
            )
        try:
            extra[key] = json.loads(value)
        except (ValueError, RecursionError):
            extra[key] = value
    return extra


def _tools(spec: str | None, session: Session, ns: Mapping[str, Any]) -> Any:
    """``--tools``: registered names, or a notebook variable holding tools."""
    if spec is None:
        return None
    from ._tools import ToolSchemaError, resolve_tools

    try:
        return resolve_tools(spec, session.tool_registry(), ns)
    except (KeyError, ToolSchemaError) as exc:
        raise UsageError(f"--tools: {exc.args[0]}") from None


def image_parts(
    args: Any, ns: Mapping[str, Any], say: Callable[[str], None]
) -> tuple[ImagePart, ...]:
    """``--image``: a file, a URL, or a notebook object by its name (``fig``).

    IPython expands ``{var}`` in the line to text first (``{folder}/x.png`` works,
    ``{fig}`` is ``Figure(...)``); a placeholder it left is looked up here.
    """
    from ._images import image_part_noted

    parts = []
    for raw in args.image or ():
        source: Any = raw
        try:
            if not args.no_interpolate and raw.startswith("{") and raw.endswith("}"):
                source = value_of(raw, ns)
            elif raw.isidentifier() and raw in ns:
                source = ns[raw]  # a variable, as a JSON option may name one
            elif not args.no_interpolate and "{" in raw:
                source = interpolate(raw, ns)  # a path built from variables
            part, notes = image_part_noted(source)
        except (ImageError, InterpolationError) as exc:
            hint = ""
            if isinstance(source, str) and "no such image file" in str(exc):
                hint = " (a Figure, PIL image or bytes in the notebook: --image NAME)"
            raise UsageError(f"--image {raw}: {exc}{hint}") from None
        parts.append(part)
        for note in notes:
            say(note)
    return tuple(parts)
