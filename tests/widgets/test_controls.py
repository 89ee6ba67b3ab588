"""The option rows with real ipywidgets: unset states, moving sets, refusals, wide values."""

from __future__ import annotations

import pytest

from nscale_jupyter._settings import ChatSettings
from nscale_jupyter.widgets._controls import controls


@pytest.fixture
def settings() -> ChatSettings:
    return ChatSettings()


def test_rows_follow_the_panel_options_of_the_table(settings: ChatSettings) -> None:
    from nscale_jupyter._options import OPTIONS

    rows = controls(settings)
    assert list(rows) == [o.name for o in OPTIONS if o.panel]
    for name, row in rows.items():
        opt = row.opt
        assert opt.help in row.value.tooltip and opt.help in row.label.tooltip
        if hasattr(row.value, "min") and opt.minimum is not None:
            assert row.value.min == opt.minimum  # the slider covers the valid range
        if hasattr(row.value, "max") and opt.maximum is not None and name != "seed":
            assert row.value.max == opt.maximum
        assert row.enabled.value is (getattr(settings, name) is not None)


def test_moving_an_unset_control_sets_its_option(settings: ChatSettings) -> None:
    rows = controls(settings)
    assert settings.temperature is None and not rows["temperature"].enabled.value
    rows["temperature"].value.value = 0.35
    assert rows["temperature"].enabled.value and settings.temperature == pytest.approx(0.35)
    rows["response_format"].value.value = "json_object"
    assert settings.request_options()["response_format"] == {"type": "json_object"}
    rows["tool_choice"].value.value = "none"
    assert settings.tool_choice == "none"


def test_ticking_set_alone_sends_the_apis_own_default(settings: ChatSettings) -> None:
    rows = controls(settings)
    for name, neutral in [
        ("temperature", 1.0),
        ("top_p", 1.0),
        ("frequency_penalty", 0.0),
        ("presence_penalty", 0.0),
        ("n", 1),
    ]:
        rows[name].enabled.value = True
        assert getattr(settings, name) == neutral, name


def test_none_states_round_trip(settings: ChatSettings) -> None:
    rows = controls(settings)
    seed = rows["seed"]
    seed.value.value = 7
    assert settings.seed == 7
    settings.seed = None  # %chat set seed=none
    assert not seed.enabled.value and settings.seed is None
    stop = rows["stop"]
    stop.value.value = " END ,, ### "
    assert settings.stop == ["END", "###"]
    stop.value.value = " , "  # nothing left: unset
    assert settings.stop is None
    settings.stop = ["a", "b"]
    assert stop.enabled.value and stop.value.value == "a, b"
    settings.response_format = {"type": "json_object"}
    assert rows["response_format"].value.value == "json_object"
    settings.logprobs = True
    assert rows["logprobs"].enabled.value and rows["logprobs"].value.value is True
    rows["logprobs"].value.value = False  # sent as false, not unset
    assert settings.logprobs is False
    rows["logprobs"].enabled.value = False
    assert settings.logprobs is None


def test_a_refused_value_shows_the_settings_value(settings: ChatSettings) -> None:
    rows = controls(settings)
    seed = rows["seed"]
    seed.value.value = 5
    seed.value.value = 2**70  # out of the int64 range the table allows
    assert settings.seed == 5 and seed.value.value == 5


def test_a_value_beyond_the_slider_widens_it(settings: ChatSettings) -> None:
    rows = controls(settings)
    settings.max_tokens = 10_000
    assert rows["max_tokens"].value.value == 10_000 and settings.max_tokens == 10_000


def test_top_p_never_sends_its_excluded_minimum(settings: ChatSettings) -> None:
    rows = controls(settings)
    rows["top_p"].value.value = 0.0
    assert settings.top_p is not None and 0 < settings.top_p <= 0.01 + 1e-9


def test_the_controls_take_their_hints_from_the_option_table() -> None:
    from nscale_jupyter._options import option
    from nscale_jupyter._settings import ChatSettings
    from nscale_jupyter.widgets._controls import controls

    rows = controls(ChatSettings())
    for name in ("tool_choice", "response_format"):
        assert tuple(rows[name].value.options) == option(name).suggestions
    for name in ("max_tokens", "n", "top_logprobs"):
        assert rows[name].value.max == option(name).slider_max
    for name in ("temperature", "top_p", "frequency_penalty", "seed", "n"):
        assert rows[name].value.value == option(name).start
