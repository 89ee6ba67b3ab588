"""Tool cards: they appear with the name, fill in as fragments arrive, then show results."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from nscale_jupyter import ToolCall, ToolCallDelta
from nscale_jupyter._tools import ToolOutcome
from nscale_jupyter.display._toolcard import ToolCardPart
from tests.html import tags


def test_card_streams_then_pretty_prints_and_shows_result() -> None:
    card = ToolCardPart()
    assert card.render() == {}
    assert card.feed(ToolCallDelta(0, 0, "t1", "get_weather", ""))
    html = card.render()["text/html"]
    assert "get_weather" in html and "[pending]" in html  # shows as soon as the name arrives
    card.feed(ToolCallDelta(0, 0, None, None, '{"city":'))
    assert "{&quot;city&quot;:" in card.render()["text/html"]  # raw fragments while streaming
    card.feed(ToolCallDelta(0, 0, None, None, '"Paris"}'))
    card.finish()
    card.set_status("t1", "running")
    assert "[running]" in card.render()["text/html"]
    card.outcome(ToolOutcome(ToolCall("t1", "get_weather", '{"city":"Paris"}'), True, '{"t": 18}'))
    html = card.render()["text/html"]
    assert "{\n  &quot;city&quot;: &quot;Paris&quot;\n}" in html
    assert "[done]" in html and "{&quot;t&quot;: 18}" in html and "t1" in html
    plain = card.render()["text/plain"]
    assert plain.startswith('tool call get_weather({\n  "city": "Paris"\n}) [done] t1')
    assert plain.endswith('result: {"t": 18}')


def test_parallel_calls_get_one_card_each_and_ignore_other_choices() -> None:
    card = ToolCardPart(index=0)
    card.feed(ToolCallDelta(0, 0, "a", "first", "{}"))
    card.feed(ToolCallDelta(0, 1, "b", "second", "{}"))
    assert not card.feed(ToolCallDelta(1, 0, "c", "other_choice", "{}"))
    card.finish()
    card.outcome(ToolOutcome(ToolCall("b", "second", "{}"), False, "Error: ValueError: no"))
    html = card.render()["text/html"]
    assert html.count("nscale-toolcard") == 2 and "other_choice" not in html
    assert html.index("first") < html.index("second") and "[error]" in html


def test_late_ids_fill_in_and_names_are_never_overwritten() -> None:
    card = ToolCardPart()
    card.feed(ToolCallDelta(0, 0, None, "get_time", ""))
    card.feed(ToolCallDelta(0, 0, "late-id", None, "{}"))
    card.feed(ToolCallDelta(0, 0, None, "", ""))
    card.finish()
    plain = card.render()["text/plain"]
    assert "get_time({}) [pending] late-id" in plain


def test_malformed_arguments_shown_with_a_warning() -> None:
    card = ToolCardPart()
    card.feed(ToolCallDelta(0, 0, "t", "f", '{"cut'))
    card.finish()
    assert "not valid JSON" in card.render()["text/html"]
    assert "{&quot;cut" in card.render()["text/html"]
    assert "warning: the arguments are not valid JSON" in card.render()["text/plain"]


def test_hostile_names_arguments_and_results_are_escaped() -> None:
    evil = '<img src=x onerror="alert(1)"><script>alert(2)</script>\'"'
    card = ToolCardPart()
    card.feed(ToolCallDelta(0, 0, evil, evil, json.dumps({"x": evil})))
    card.feed(ToolCallDelta(0, 1, "t2", "f", evil))  # malformed too
    card.finish()
    card.set_status(evil, "error", evil)
    parser = tags(card.render()["text/html"])
    assert "script" not in parser.tags and "img" not in parser.tags
    assert "onerror" not in parser.attrs and "src" not in parser.attrs


@given(st.text(max_size=40), st.text(max_size=40), st.text(max_size=40))
def test_any_text_stays_text(name: str, args: str, result: str) -> None:
    card = ToolCardPart()
    card.feed(ToolCallDelta(0, 0, "id", name, args))
    card.finish()
    card.set_status("id", "done", result)
    parser = tags(card.render()["text/html"])
    assert set(parser.tags) <= {"div", "b", "span", "pre"}
    assert set(parser.attrs) <= {"class", "style"}
