"""batch(): rows in order, 429s waited out, failures recorded, checkpoint and resume."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from nscale_jupyter import batch
from nscale_jupyter._options import OptionError
from nscale_jupyter._rows import BatchResult
from tests.servers.fault_server import FaultServer, Reply

from .helpers import Echo, chats, completion, error, prompt_of, session_for


def test_rate_limits_lose_no_row_and_failures_are_recorded_in_order() -> None:
    def rule(prompt: str, attempt: int) -> object:
        n = int(prompt.split()[-1])
        if n % 7 == 3:
            return error(400, "this row is refused")
        if n % 3 == 0 and attempt <= 4:  # more 429s than the client's own two retries
            return error(429, "slow down", **{"retry-after-ms": "20"})
        return None

    with FaultServer() as srv:
        srv.respond = Echo(rule)  # type: ignore[assignment]
        session = session_for(srv)
        items = [f"row {i}" for i in range(40)]
        result = batch(items, concurrency=6, progress=False, session=session, model="fake")
        assert isinstance(result, BatchResult) and len(result) == 40
        for i, row in enumerate(result):
            assert row.index == i
            if i % 7 == 3:
                assert row.answer is None and "refused" in (result.errors[i] or "")
            else:
                assert row.answer == f"<row {i}>" and result.errors[i] is None
        assert result.failed == [i for i in range(40) if i % 7 == 3]
        assert result.retries >= 4 * sum(1 for i in range(40) if i % 3 == 0 and i % 7 != 3)
        assert srv.max_concurrent <= 6
        assert not any(r.json.get("stream") for r in chats(srv))
        assert result.usage.total_tokens == 5 * (40 - len(result.failed))
        session.close()
        assert srv.wait_idle()


def test_the_retry_budget_ends_a_row_that_is_always_limited() -> None:
    with FaultServer() as srv:
        srv.respond = Echo(  # type: ignore[assignment]
            lambda p, a: error(429, "slow down", **{"retry-after-ms": "1"}) if p == "b" else None
        )
        session = session_for(srv)
        result = batch(["a", "b", "c"], retries=2, progress=False, session=session, model="fake")
        assert result.answers == ["<a>", None, "<c>"]
        assert "429" in (result.errors[1] or "") and result.retries >= 2
        session.close()


def test_templates_fill_from_fields_and_strings() -> None:
    with FaultServer() as srv:
        srv.respond = Echo()  # type: ignore[assignment]
        session = session_for(srv)
        out = batch(["a", "b"], "Upper: {item}", progress=False, session=session, model="fake")
        assert out.answers == ["<Upper: a>", "<Upper: b>"]
        rows = [{"name": "x", "n": 1}, {"name": "y", "n": 2}]
        out = batch(rows, "{name}={n}", progress=False, session=session, model="fake")
        assert out.answers == ["<x=1>", "<y=2>"]
        with pytest.raises(OptionError, match="row 1"):
            batch([{"a": 1}, {"b": 2}], "{a}", progress=False, session=session, model="fake")
        with pytest.raises(OptionError, match="temperature"):
            batch(["a"], progress=False, session=session, temperature=9)
        assert len(chats(srv)) == 4  # the bad batches sent nothing
        session.close()


def test_checkpoint_keeps_finished_rows_and_a_rerun_sends_only_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    broken = {"on": True}

    def rule(prompt: str, attempt: int) -> object:
        return error(400, "down") if broken["on"] and prompt.endswith(("7", "8", "9")) else None

    with FaultServer() as srv:
        srv.respond = Echo(rule)  # type: ignore[assignment]
        session = session_for(srv)
        items = [f"item {i}" for i in range(10)]
        first = batch(items, checkpoint=str(path), progress=False, session=session, model="fake")
        assert first.failed == [7, 8, 9]
        assert len(path.read_text().splitlines()) == 7
        with path.open("a") as f:
            f.write('{"i": 8, "key": "torn')  # a line cut short by a killed kernel
        broken["on"] = False
        sent = len(chats(srv))
        again = batch(items, checkpoint=str(path), progress=False, session=session, model="fake")
        sent_now = sorted(prompt_of(r) for r in chats(srv)[sent:])  # concurrent: any order
        assert sent_now == ["item 7", "item 8", "item 9"]
        assert again.answers == [f"<item {i}>" for i in range(10)] and not again.failed
        assert sum(r.resumed for r in again) == 7
        # A changed template is another batch: nothing stale is reused.
        sent = len(chats(srv))
        other = batch(items, "Re: {item}", checkpoint=str(path), progress=False,
                      session=session, model="fake")  # fmt: skip
        assert len(chats(srv)) - sent == 10 and other.answers[0] == "<Re: item 0>"
        assert all(json.loads(line) for line in path.read_text().splitlines()[-10:])
        session.close()


def test_a_background_batch_returns_at_once_and_cancel_keeps_finished_rows() -> None:
    def rule(prompt: str, attempt: int) -> object:
        # Rows from 3 on hang (headers sent, then nothing) until the client hangs up.
        return None if int(prompt) < 3 else Reply(events=[b"{"], stall_after=0)

    with FaultServer() as srv:
        srv.respond = Echo(rule)  # type: ignore[assignment]
        session = session_for(srv)
        run = batch([str(i) for i in range(8)], concurrency=8, wait=False, progress=False,
                    session=session, model="fake")  # fmt: skip
        assert not run.done()
        deadline = time.monotonic() + 10
        while (run.progress.done < 3 or srv.in_flight < 5) and time.monotonic() < deadline:
            time.sleep(0.01)
        result = run.cancel()
        assert result.interrupted and result.answers[:3] == ["<0>", "<1>", "<2>"]
        assert result.errors[3:] == ["not run"] * 5
        assert repr(result).startswith("<BatchResult 3/8 done, 5 not run, ")  # not "failed"
        assert srv.wait_idle() and srv.hung_up == 5  # cancelled requests closed their sockets
        session.close()


@dataclass
class Person:
    name: str
    age: int


def test_structured_output_becomes_columns_and_bad_rows_are_flagged() -> None:
    answers = {
        "a": '{"name": "Ada", "age": 36}',
        "b": '```json\n{"name": "Bob", "age": "41"}\n```',
        "c": "not json",
        "d": '{"name": "Dee"}',
    }
    with FaultServer() as srv:
        srv.respond = Echo(lambda p, a: completion(answers[p]))  # type: ignore[assignment]
        session = session_for(srv)
        out = batch(list(answers), output=Person, progress=False, session=session, model="fake")
        fmt = chats(srv)[0].json["response_format"]
        assert fmt["type"] == "json_schema"
        assert fmt["json_schema"]["schema"]["required"] == ["name", "age"]
        assert out.columns == ("name", "age")
        assert out[0].fields == {"name": "Ada", "age": 36} and out[1].fields == {
            "name": "Bob",
            "age": 41,
        }
        assert out.flagged == [2, 3] and "not JSON" in (out[2].problem or "")
        assert "missing age" in (out[3].problem or "") and out[3].answer is not None
        assert out.failed == []
        session.close()


def test_abatch_from_another_loop_leaves_that_loop_free() -> None:
    import asyncio

    from nscale_jupyter import abatch

    with FaultServer() as srv:
        srv.respond = Echo()  # type: ignore[assignment]
        session = session_for(srv)

        async def go() -> tuple[BatchResult, int]:
            ticks = 0

            async def tick() -> None:
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0.001)

            ticker = asyncio.create_task(tick())
            result = await abatch([str(i) for i in range(30)], concurrency=4, progress=False,
                                  session=session, model="fake")  # fmt: skip
            ticker.cancel()
            return result, ticks

        result, ticks = asyncio.run(go())
        assert result.answers == [f"<{i}>" for i in range(30)]
        assert ticks > 5  # the caller's loop kept running while the batch went on
        session.close()


def test_an_unexpected_error_in_one_row_stays_on_that_row() -> None:
    import httpx

    from nscale_jupyter._session import Session

    from .helpers import KEY

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/models"):
            return httpx.Response(200, json={"object": "list", "data": [{"id": "fake"}]})
        prompt = json.loads(request.content)["messages"][-1]["content"]
        if prompt == "boom":
            raise RuntimeError("a bug somewhere below")
        return httpx.Response(200, content=completion(f"<{prompt}>").body)

    session = Session(api_key=KEY, transport=httpx.MockTransport(handler))
    session.settings.base_url = "https://api.test/v1"
    result = batch(["a", "boom", "c"], progress=False, session=session, model="fake")
    assert result.answers == ["<a>", None, "<c>"]
    assert "a bug somewhere below" in (result.errors[1] or "")
    session.close()


def test_a_cassette_resumes_an_interrupted_batch(tmp_path: Path) -> None:
    """The same batch again in the same cassette sends only the rows not done."""
    from nscale_jupyter import cassette

    hang = {"on": True}

    def rule(prompt: str, attempt: int) -> object:
        return Reply(events=[b"{"], stall_after=0) if hang["on"] and int(prompt) >= 3 else None

    tape = tmp_path / "lesson.jsonl"
    items = [str(i) for i in range(8)]
    with FaultServer() as srv:
        srv.respond = Echo(rule)  # type: ignore[assignment]
        session = session_for(srv)
        with cassette(tape, session=session):
            run = batch(items, concurrency=8, wait=False, progress=False,
                        session=session, model="fake")  # fmt: skip
            deadline = time.monotonic() + 10
            while (run.progress.done < 3 or srv.in_flight < 5) and time.monotonic() < deadline:
                time.sleep(0.01)
            first = run.cancel()
        assert first.interrupted and first.answers[:3] == ["<0>", "<1>", "<2>"]
        hang["on"] = False
        sent = len(chats(srv))
        with cassette(tape, session=session):  # a rerun, e.g. after a kernel restart
            again = batch(items, progress=False, session=session, model="fake")
        assert sorted(prompt_of(r) for r in chats(srv)[sent:]) == ["3", "4", "5", "6", "7"]
        assert again.answers == [f"<{i}>" for i in range(8)] and not again.failed
        session.close()
