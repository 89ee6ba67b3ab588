"""The option table's value checks: JSON text, logit_bias, response_format, tool_choice, stop."""

from __future__ import annotations

import pytest

from nscale_jupyter._option_checks import CHECKS, OptionError, loads
from nscale_jupyter._options import OPTIONS, option


@pytest.mark.parametrize(("name", "text", "value"), [
    ("logit_bias", '{"42": -100}', {"42": -100.0}),
    ("response_format", "json_object", {"type": "json_object"}),
    ("response_format", '{"type": "object", "properties": {}}',
     {"type": "json_schema", "json_schema": {"name": "response",
                                             "schema": {"type": "object", "properties": {}}}}),
    ("tool_choice", "auto", "auto"),
    ("tool_choice", "get_weather", {"type": "function", "function": {"name": "get_weather"}}),
    ("stop", "END", ("END",)), ("chat_template_kwargs", '{"enable_thinking": true}',
                                {"enable_thinking": True}),
])  # fmt: skip
def test_checked_values_parse(name: str, text: str, value: object) -> None:
    assert option(name).parse(text) == value


@pytest.mark.parametrize(("name", "text", "needle"), [
    ("logit_bias", '{"a": 1}', "whole numbers"), ("logit_bias", '{"1": 101}', "[-100, 100]"),
    ("logit_bias", "{bad", "not valid JSON"), ("response_format", "[1]", "--response-format"),
])  # fmt: skip
def test_checked_value_errors_name_the_flag(name: str, text: str, needle: str) -> None:
    with pytest.raises(OptionError) as info:
        option(name).parse(text)
    assert needle in str(info.value)
    assert option(name).flag in str(info.value)


def test_every_check_belongs_to_an_option() -> None:
    assert set(CHECKS) <= {o.name for o in OPTIONS}


def test_loads_names_the_flag() -> None:
    assert loads("--x", '{"a": [1]}') == {"a": [1]}
    with pytest.raises(OptionError, match=r"^--x: not valid JSON"):
        loads("--x", "{")
    with pytest.raises(OptionError, match=r"^--x: JSON nested too deeply"):
        loads("--x", "[" * 100_000)
