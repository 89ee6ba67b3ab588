"""The usage meter, prices and the budget, against a real loopback server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import nscale_jupyter as nj
from nscale_jupyter._results import Model, Usage
from nscale_jupyter._session import Session
from nscale_jupyter._settings import ChatSettings
from nscale_jupyter._usage import cost_of, price_from_models
from tests.core.streams import choice, chunk, role
from tests.servers.fault_server import FaultServer, Reply, sse_events

KEY = "sk-SENTINEL-usage-0d17"


def usage_reply(prompt: int, completion: int) -> Reply:
    usage = {"prompt_tokens": prompt, "completion_tokens": completion}
    chunks = [chunk(role(), model="fake"), chunk(choice(content="x", finish_reason="stop"))]
    chunks.append(chunk(usage={**usage, "total_tokens": prompt + completion}, model="fake"))
    return Reply(events=sse_events(chunks))


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


def session(srv: FaultServer, **settings: object) -> Session:
    return Session(ChatSettings(base_url=srv.base_url, **settings), api_key=KEY)


def test_totals_equal_the_sum_of_the_servers_usage(server: FaultServer) -> None:
    server.enqueue(usage_reply(11, 3), usage_reply(17, 5), usage_reply(4, 2))
    s = session(server)
    nj.chat("a", session=s, thread="one")
    nj.chat("b", session=s, thread="one")
    nj.chat("c", session=s)
    s.close()
    bodies = [r.json for r in server.requests if r.json and "messages" in r.json]
    assert all(b["stream_options"] == {"include_usage": True} for b in bodies)
    total = s.meter.total("live")
    assert (total.requests, total.prompt_tokens, total.completion_tokens) == (3, 32, 10)
    assert total.total_tokens == 42
    assert s.meter.tallies[("one", "live")].total_tokens == 36
    report = s.meter.report()
    assert "one" in report and "(one-off)" in report and "42" in report


def test_a_request_past_the_budget_is_refused_before_it_is_sent(server: FaultServer) -> None:
    server.enqueue(usage_reply(30, 20))
    s = session(server, budget_tokens=200)
    nj.chat("first", session=s, max_tokens=50)
    sent = len(server.requests)
    with pytest.raises(nj.BudgetError) as info:
        nj.chat("second", session=s, max_tokens=150)
    s.close()
    assert len(server.requests) == sent  # the server saw nothing
    message = str(info.value)
    assert "\n" not in message and "50 of 200 spent" in message
    assert "ChatSettings.budget_tokens" in message


def test_with_a_budget_usage_is_asked_for_even_when_turned_off(server: FaultServer) -> None:
    s = session(server, budget_tokens=10_000, include_usage=False)
    nj.chat("hi", session=s)
    s.close()
    body = [r.json for r in server.requests if r.json and "messages" in r.json][-1]
    assert body["stream_options"] == {"include_usage": True}


def test_replayed_answers_cost_nothing_and_pass_the_budget(
    server: FaultServer, tmp_path: Path
) -> None:
    path = tmp_path / "c.jsonl"
    server.enqueue(usage_reply(300, 200))
    s = session(server)
    with nj.cassette(path, "record", session=s):
        nj.chat("big", session=s, max_tokens=500)
    s.close()
    s = session(server, budget_tokens=100)
    with nj.cassette(path, "replay", session=s):
        result = nj.chat("big", session=s, max_tokens=500)
    s.close()
    assert result.provenance is not None and result.provenance.replayed
    assert s.meter.total("live").total_tokens == 0
    assert s.meter.total("replayed").total_tokens == 500


def test_prices_give_the_cost_and_the_cost_budget(server: FaultServer) -> None:
    server.enqueue(usage_reply(1000, 500))
    s = session(server, prices={"fake": [2.0, 10.0]}, budget_cost=0.01)
    result = nj.chat("hi", session=s, max_tokens=500)
    assert result.provenance is not None and result.provenance.cost == pytest.approx(0.007)
    assert s.meter.total().cost == pytest.approx(0.007)
    with pytest.raises(nj.BudgetError, match="cost budget"):
        nj.chat("again", session=s, max_tokens=500)
    s.close()


def test_a_server_can_list_prices() -> None:
    models = [Model.from_json({"id": "m", "pricing": {"input": 1, "output": 4}})]
    assert price_from_models(models, "m") == (1.0, 4.0)
    assert price_from_models(models, "other") is None
    assert cost_of(Usage(100, 10, 110), (1.0, 4.0)) == pytest.approx(140e-6)
    assert cost_of(None, (1.0, 4.0)) is None
