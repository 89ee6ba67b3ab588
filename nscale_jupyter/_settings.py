"""Session settings as traitlets, generated from the option table.

One ``ChatSettings`` object backs ``%chat set``, ``%config ChatSettings.x = ...``
and the widget panel, so all three always agree. ``None`` means unset
(not sent). It never holds the API key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from traitlets import Bool, Dict, Enum, Float, Int, List, TraitError, Unicode, Union, validate
from traitlets.config import Configurable

from ._options import OPTIONS, Option, OptionError, check_combination, option

__all__ = ["ChatSettings"]


def _trait_for(opt: Option) -> Any:
    help_text = opt.help
    if opt.kind == "float":
        return Float(opt.default, allow_none=True, help=help_text).tag(config=True)
    if opt.kind == "int":
        return Int(opt.default, allow_none=True, help=help_text).tag(config=True)
    if opt.kind == "bool":
        return Bool(opt.default, allow_none=True, help=help_text).tag(config=True)
    if opt.kind == "strs":
        return List(Unicode(), default_value=None, allow_none=True, help=help_text).tag(
            config=True
        )
    if opt.kind == "json":
        return Union([Dict(), Unicode()], default_value=None, allow_none=True, help=help_text).tag(
            config=True
        )
    return Unicode(opt.default, allow_none=True, help=help_text).tag(config=True)


class ChatSettings(Configurable):
    """Defaults for every ``%%chat``: request options plus how requests are sent."""

    stream = Bool(True, help="Stream replies as they are generated.").tag(config=True)
    include_usage = Bool(True, help="Ask for token usage at the end of a stream.").tag(config=True)
    system = Unicode(
        None, allow_none=True, help="System prompt for new threads (None for no system message)."
    ).tag(config=True)
    base_url = Unicode(
        None, allow_none=True, help="API base URL (default: $NSCALE_BASE_URL or nscale's)."
    ).tag(config=True)
    max_tool_rounds = Int(5, help="Most model <-> tool round trips per cell.").tag(config=True)
    run_tools = Bool(True, help="Run registered Python tools the model calls.").tag(config=True)
    timeout = Float(
        600.0, min=0.1, help="Seconds to wait for the server to send anything (connect: 10 s)."
    ).tag(config=True)
    allow_insecure_http = Bool(
        False, help="Send the API key over plain http to a non-loopback host (off: refused)."
    ).tag(config=True)

    cassette = Unicode(
        None,
        allow_none=True,
        help="Cassette file (JSON Lines): replay recorded answers, record the rest (None: off).",
    ).tag(config=True)
    cassette_mode = Enum(
        ["auto", "record", "replay"],
        None,
        allow_none=True,
        help="How the cassette is used: auto (None), record or replay (never sends).",
    ).tag(config=True)
    cassette_pace = Bool(
        False, help="Replay at the recorded pace (first token, then evenly to the end)."
    ).tag(config=True)
    prices = Dict(
        help='Prices per million tokens, by the model asked for: {"model": [input, output]}.'
    ).tag(config=True)
    budget_tokens = Int(
        None, allow_none=True, min=0, help="Most live tokens a session may use (None: none)."
    ).tag(config=True)
    budget_cost = Float(
        None, allow_none=True, min=0.0, help="Most a session may spend, by prices (None: none)."
    ).tag(config=True)

    log_path = Unicode(
        None,
        allow_none=True,
        help="Append every turn to this JSON Lines file, for review (never the key; None: off).",
    ).tag(config=True)

    locals().update({o.name: _trait_for(o) for o in OPTIONS})

    if TYPE_CHECKING:  # the option traits above are made in a loop: Any for the type checker

        def __getattr__(self, name: str) -> Any: ...
        def __setattr__(self, name: str, value: Any) -> None: ...

    @validate(*[o.name for o in OPTIONS])
    def _validate_option(self, proposal: Any) -> Any:
        # Values set through %config or the panel get the same checks as flags.
        value = proposal["value"]
        if value is None:
            return None
        opt = option(proposal["trait"].name)
        try:
            checked = opt.validate(tuple(value) if isinstance(value, list) else value)
        except OptionError as exc:
            raise TraitError(str(exc)) from None
        if opt.kind == "strs":
            return list(checked)
        # Text options keep the text the user wrote (a tool name stays a name);
        # the request builder turns it into the API's shape.
        return value if isinstance(value, str) else checked

    def request_options(self) -> dict[str, Any]:
        """The options that are set (not None), as API values."""
        values: dict[str, Any] = {}
        for opt in OPTIONS:
            value = getattr(self, opt.name)
            if value is not None:
                values[opt.name] = opt.validate(tuple(value) if isinstance(value, list) else value)
        return values

    def update_options(self, values: dict[str, Any]) -> None:
        """Set several options at once, validated together (``%chat set``)."""
        merged = {**self.request_options(), **values}
        check_combination(merged)
        with self.hold_trait_notifications():
            for name, value in values.items():
                opt = option(name)
                setattr(self, opt.name, list(value) if opt.kind == "strs" and value else value)

    def reset(self) -> None:
        """Back to the defaults of the option table."""
        for opt in OPTIONS:
            setattr(self, opt.name, opt.default)

    def describe(self) -> str:
        """A plain-text listing for ``%chat settings``."""
        lines = []
        for opt in OPTIONS:
            value = getattr(self, opt.name)
            if value is not None:
                lines.append(f"{opt.name} = {value!r}")
        for name in (
            "stream",
            "include_usage",
            "system",
            "base_url",
            "max_tool_rounds",
            "timeout",
        ):
            lines.append(f"{name} = {getattr(self, name)!r}")
        # Shown once set (the cassette: %chat cassette).
        for name in ("prices", "budget_tokens", "budget_cost", "log_path"):
            if getattr(self, name) not in (None, {}):
                lines.append(f"{name} = {getattr(self, name)!r}")
        return "\n".join(lines)
