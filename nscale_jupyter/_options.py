"""THE table of request options.

Every request field is described once here. From this table come the
``%%chat`` flags and their validation, ``%chat set``, the ``%config``
traits, the widget panel's controls and the README's option table.
Unset options are never sent; ``--temperature 0`` is sent.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ._option_checks import CHECKS, OptionError, loads

__all__ = [
    "EXTRAS",
    "KNOWN_EXTRAS",
    "OPTIONS",
    "Option",
    "OptionError",
    "check_combination",
    "option",
    "options_markdown",
    "parse_option",
]

Kind = Literal["str", "int", "float", "bool", "strs", "json", "choice"]


@dataclass(frozen=True, slots=True)
class Option:
    """One request field: API name, flag, type, range, default and help."""

    name: str
    kind: Kind
    help: str
    short: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    choices: tuple[str, ...] = ()
    default: Any = None
    #: A sampling knob the widget panel shows.
    panel: bool = False
    #: Sent as a top-level vLLM extra rather than a documented field.
    extra: bool = False
    #: Panel hints: where its value widget starts (the API's own default, so
    #: ticking "set" alone changes nothing), a slider's end for a range open
    #: above, and the choices of a free-text option's dropdown.
    start: Any = None
    slider_max: float | None = None
    suggestions: tuple[str, ...] = ()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def range_text(self) -> str:
        if self.minimum is None and self.maximum is None:
            return ""

        def number(x: float) -> str:
            return str(int(x)) if self.kind == "int" else f"{x:g}"

        lo = "" if self.minimum is None else number(self.minimum)
        hi = "" if self.maximum is None else number(self.maximum)
        left = "(" if self.exclusive_minimum else "["
        if hi:
            return f"{left}{lo}, {hi}]"
        return f"> {lo}" if self.exclusive_minimum else f">= {lo}"

    def validate(self, value: Any) -> Any:
        """Check a Python value (already of the right type); return it normalised."""
        if value is None:
            return None
        if self.kind in ("int", "float"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise OptionError(f"{self.flag}: expected a number, got {value!r}")
            if self.kind == "int" and (isinstance(value, float) and not value.is_integer()):
                raise OptionError(f"{self.flag}: expected a whole number, got {value!r}")
            value = int(value) if self.kind == "int" else float(value)
            if not math.isfinite(value):
                raise OptionError(f"{self.flag}: must be finite")
            too_low = self.minimum is not None and (
                value <= self.minimum if self.exclusive_minimum else value < self.minimum
            )
            too_high = self.maximum is not None and value > self.maximum
            if too_low or too_high:
                shown = value if isinstance(value, int) else f"{value:g}"
                raise OptionError(f"{self.flag}: {shown} is out of range {self.range_text}")
            return value
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise OptionError(f"{self.flag}: expected true or false, got {value!r}")
            return value
        if self.kind == "choice" and value not in self.choices:
            raise OptionError(f"{self.flag}: {value!r} is not one of {', '.join(self.choices)}")
        if self.kind == "strs":
            values = (value,) if isinstance(value, str) else tuple(value)
            if not all(isinstance(v, str) for v in values):
                raise OptionError(f"{self.flag}: expected strings, got {value!r}")
            checker = CHECKS.get(self.name)
            return checker(self.flag, values) if checker else values
        if self.kind == "str" and not isinstance(value, str) and self.name not in CHECKS:
            raise OptionError(f"{self.flag}: expected text, got {value!r}")
        if self.kind == "str" and isinstance(value, str) and not value.strip():
            raise OptionError(f"{self.flag}: empty (leave it out to use the default)")
        checker = CHECKS.get(self.name)
        return checker(self.flag, value) if checker else value

    def parse(self, text: str) -> Any:
        """Parse a command-line string (``--top-p 0.9``, ``top_p=0.9``) and validate it."""
        text = text.strip()
        if self.kind == "int":
            try:
                return self.validate(int(text))
            except ValueError as exc:
                if isinstance(exc, OptionError):
                    raise
                raise OptionError(f"{self.flag}: expected a whole number, got {text!r}") from None
        if self.kind == "float":
            try:
                number = float(text)
            except ValueError:
                raise OptionError(f"{self.flag}: expected a number, got {text!r}") from None
            return self.validate(number)
        if self.kind == "bool":
            lowered = text.lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise OptionError(f"{self.flag}: expected true or false, got {text!r}")
        if self.kind == "json":
            # response_format also takes the words "text" and "json_object".
            words = self.name == "response_format"
            return self.validate(text if words else loads(self.flag, text))
        if self.kind == "strs":
            return self.validate((text,))
        return self.validate(text)


OPTIONS: tuple[Option, ...] = (
    Option("model", "str", "Model id (see `%chat models`).", short="-m"),
    Option(
        "temperature",
        "float",
        "Sampling temperature; 0 is greedy.",
        short="-t",
        minimum=0,
        maximum=2,
        panel=True,
        start=1.0,
    ),
    Option(
        "top_p",
        "float",
        "Nucleus sampling: keep the smallest set of tokens with this much probability.",
        minimum=0,
        maximum=1,
        exclusive_minimum=True,
        panel=True,
        start=1.0,
    ),
    Option(
        "max_tokens",
        "int",
        "Most tokens to generate (always sent; the server would "
        "otherwise allow the whole context).",
        minimum=1,
        default=1024,
        panel=True,
        slider_max=4096,
    ),
    Option(
        "max_completion_tokens",
        "int",
        "Like max_tokens (newer name); wins when both are set.",
        minimum=1,
    ),
    Option(
        "n",
        "int",
        "How many choices to generate.",
        short="-n",
        minimum=1,
        maximum=16,
        panel=True,
        start=1,
        slider_max=16,
    ),
    Option(
        "frequency_penalty",
        "float",
        "Penalise tokens by how often they appeared.",
        minimum=-2,
        maximum=2,
        panel=True,
        start=0.0,
    ),
    Option(
        "presence_penalty",
        "float",
        "Penalise tokens that appeared at all.",
        minimum=-2,
        maximum=2,
        panel=True,
        start=0.0,
    ),
    Option(
        "seed",
        "int",
        "Seed for reproducible sampling.",
        minimum=-(2**63),
        maximum=2**63 - 1,
        panel=True,
        start=0,
    ),
    Option("stop", "strs", "Stop at this string (repeatable); it is not included.", panel=True),
    Option("logprobs", "bool", "Return the log-probability of each token.", panel=True),
    Option(
        "top_logprobs",
        "int",
        "Also return the K most likely alternatives per token (needs --logprobs).",
        minimum=0,
        maximum=20,
        panel=True,
        start=1,
        slider_max=20,
    ),
    Option("logit_bias", "json", "Token id -> bias in [-100, 100], as JSON or a variable."),
    Option(
        "response_format",
        "json",
        "text, json_object, or a JSON schema (JSON or a variable).",
        panel=True,
        suggestions=("text", "json_object"),
    ),
    Option(
        "tools",
        "strs",
        "Tools to offer: registered names (comma-separated) or a "
        "variable holding OpenAI-style tool dicts.",
    ),
    Option(
        "tool_choice",
        "str",
        "auto, none, required, or a tool name.",
        panel=True,
        suggestions=("auto", "none", "required"),
    ),
    Option("parallel_tool_calls", "bool", "Allow several tool calls in one turn."),
    Option(
        "reasoning_effort",
        "choice",
        "Reasoning effort, for models that support it.",
        choices=("none", "minimal", "low", "medium", "high", "xhigh"),
    ),
    Option("user", "str", "An end-user id (accepted, ignored by vLLM)."),
    Option(
        "top_k",
        "int",
        "vLLM: sample from the K most likely tokens (-1 = off).",
        minimum=-1,
        extra=True,
        panel=True,
        start=-1,
        slider_max=50,
    ),
    Option(
        "min_p",
        "float",
        "vLLM: drop tokens below this fraction of the top token's probability.",
        minimum=0,
        maximum=1,
        extra=True,
        panel=True,
        start=0.0,
    ),
    Option(
        "prompt_logprobs",
        "int",
        "vLLM: the log-probability of every prompt token and its K most likely "
        "alternatives (vLLM refuses it on a stream: the reply comes whole).",
        minimum=0,
        maximum=20,
        extra=True,
    ),
    Option(
        "repetition_penalty",
        "float",
        "vLLM: >1 discourages repetition (1 = off).",
        minimum=0,
        exclusive_minimum=True,
        maximum=2,
        extra=True,
    ),
    Option(
        "chat_template_kwargs",
        "json",
        'vLLM: chat template arguments, e.g. {"enable_thinking": true}.',
        extra=True,
    ),
)

_BY_NAME = {o.name: o for o in OPTIONS}
#: The options sent as top-level vLLM extras (``ChatRequest.extra``).
EXTRAS = frozenset(o.name for o in OPTIONS if o.extra)
#: vLLM extras the client knows; other ``--extra`` keys are refused (vLLM ignores
#: misspelled keys silently) unless forced with ``--extra !key=value``.
KNOWN_EXTRAS = frozenset(
    EXTRAS
    | {
        "min_tokens",
        "stop_token_ids",
        "include_stop_str_in_output",
        "ignore_eos",
        "skip_special_tokens",
        "include_reasoning",
        "echo",
        "add_generation_prompt",
        "continue_final_message",
        "return_tokens_as_token_ids",
        "return_token_ids",
        "priority",
        "request_id",
        "length_penalty",
        "spaces_between_special_tokens",
        "truncate_prompt_tokens",
    }
)


def option(name: str) -> Option:
    """The option called ``name`` (API spelling or flag spelling)."""
    key = name.strip().lstrip("-").replace("-", "_")
    try:
        return _BY_NAME[key]
    except KeyError:
        raise OptionError(f"unknown option {name!r}; known: {', '.join(_BY_NAME)}") from None


def parse_option(name: str, text: str) -> tuple[str, Any]:
    """Parse ``name=text`` as written in ``%chat set``; return (api name, value)."""
    opt = option(name)
    if text.strip().lower() in ("none", "null", "unset", ""):
        return opt.name, opt.default  # back to the table's default (None: not sent)
    if opt.kind == "strs":  # a JSON list, or comma-separated words
        stripped = text.strip()
        words = loads(opt.flag, stripped) if stripped.startswith("[") else stripped.split(",")
        if not isinstance(words, list):
            raise OptionError(f"{opt.flag}: expected a list of strings")
        return opt.name, opt.validate(tuple(w.strip() if isinstance(w, str) else w for w in words))
    return opt.name, opt.parse(text)


def check_combination(values: Mapping[str, Any]) -> None:
    """Rules that span options (the server would answer 400)."""
    top = values.get("top_logprobs")
    if top and not values.get("logprobs"):
        raise OptionError("--top-logprobs needs --logprobs")


def options_markdown(options: Iterable[Option] = OPTIONS) -> str:
    """The README's option table."""
    rows = ["| flag | API field | type | range / values | help |", "|---|---|---|---|---|"]
    for o in options:
        flag = f"`{o.flag}`" + (f" / `{o.short}`" if o.short else "")
        field_name = f"`{o.name}`" + (" (vLLM extra)" if o.extra else "")
        values = o.range_text or ", ".join(o.choices)
        if o.default is not None:
            values = (values + f"; default {o.default}").lstrip("; ")
        rows.append(f"| {flag} | {field_name} | {o.kind} | {values} | {o.help} |")
    return "\n".join(rows)
