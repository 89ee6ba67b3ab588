"""Tools against the real engine, through the turn engine as every face runs them:
the tiny model calls get_weather, our Python function runs (or a person answers
a tool given as a dict), the result goes back, and the model's next turn arrives."""

from __future__ import annotations

from typing import Any

import pytest

from nscale_jupyter import answer, chat
from nscale_jupyter._session import Session
from nscale_jupyter._tools import ToolRegistry
from scripts.tiny_chat_data import WEATHER_TOOL

pytestmark = pytest.mark.engine

QUESTION = "What is the weather in Paris?"
WEATHER = WEATHER_TOOL  # the schema the tiny model was trained with


def session_for(engine: Any) -> Session:
    session = Session()
    session.settings.base_url = engine.base_url
    session.tools = ToolRegistry()  # this test's tools only
    return session


def weather(cities: list[str]) -> Any:
    def get_weather(city: str) -> dict[str, Any]:
        """Get the current weather in a city.

        Args:
            city: The city name.
        """
        cities.append(city)
        return {"city": city, "temp_c": 18, "condition": "sunny"}

    return get_weather


def check_round_trip(session: Session, thread: str, cities: list[str]) -> None:
    """The call ran with a string city, its result went back, a next turn came."""
    messages = session.thread(thread).messages
    assert [m.role for m in messages[:4]] == ["user", "assistant", "tool", "assistant"]
    call = messages[1].tool_calls[0]
    assert call.name == "get_weather" and call.id and isinstance(call.args, dict)
    assert cities == [call.args["city"]]
    assert messages[2].tool_call_id == call.id and '"temp_c": 18' in (messages[2].text)
    assert messages[3].text or messages[3].tool_calls  # the model's next turn was received


def test_a_python_function_as_a_tool(engine: Any) -> None:
    session, cities = session_for(engine), []
    try:
        result = chat(
            QUESTION,
            tools=[weather(cities)],
            thread="t",
            session=session,
            temperature=0,
            max_tokens=60,
            max_tool_rounds=2,
        )
        assert result.finish_reason in ("stop", "length", "tool_calls")
        check_round_trip(session, "t", cities)
    finally:
        session.close()


@pytest.mark.parametrize(
    "forced", ["required", {"type": "function", "function": {"name": "get_weather"}}]
)
def test_forced_tool_choice_then_auto(engine: Any, forced: Any) -> None:
    session, cities = session_for(engine), []
    session.tools.register(weather(cities), strict=True)  # type: ignore[union-attr]
    try:
        turn_result = chat(
            QUESTION,
            tools=["get_weather"],
            thread="t",
            session=session,
            temperature=0,
            max_tokens=60,
            tool_choice=forced,
            max_tool_rounds=2,
        )
        assert turn_result.request is not None and turn_result.request.tool_choice == "auto"
        check_round_trip(session, "t", cities)
        first = session.last_request
        assert first is not None and first.tool_choice == forced
    finally:
        session.close()


def test_a_tool_dict_is_answered_by_a_person(engine: Any) -> None:
    session = session_for(engine)
    try:
        first = chat(
            QUESTION, tools=[WEATHER], thread="t", session=session, temperature=0, max_tokens=60
        )
        (call,) = first.tool_calls
        assert call.name == "get_weather"
        assert session.thread("t").pending == (call,)
        reply = answer(call.id or "", '{"city": "Paris", "temp_c": 21}', session=session)
        assert reply is not None and (reply.text or reply.tool_calls)
        roles = [m.role for m in session.thread("t").messages]
        assert roles[:4] == ["user", "assistant", "tool", "assistant"]
        sent = reply.request
        assert sent is not None and sent.messages[-1].role == "tool"
        assert sent.tools == (WEATHER,)  # the continuation offers the same tools
    finally:
        session.close()
