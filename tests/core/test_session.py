"""Session: turns from any loop or thread, against a real loopback server.

``achat``/``Turn.run`` run the whole turn on the session loop and hop back
once; ``async for`` over a turn gets the events in order, in batches;
cancelling either closes the connection (the server sees it hang up).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from nscale_jupyter import BadRequestError, ConfigError, Message, StreamInterrupted, achat, chat
from nscale_jupyter._events import ContentDelta, StreamDone
from nscale_jupyter._session import Session
from nscale_jupyter._turn import TurnSpec
from tests.servers.fault_server import FaultServer, Received, Reply, sse_events, text_reply

KEY = "sk-SENTINEL-session-0d4e"
#: A one-off turn to model "fake".
FAKE = TurnSpec((Message.user("hi"),), options={"model": "fake"})


def session_for(srv: FaultServer, **settings: Any) -> Session:
    session = Session(api_key=KEY)
    session.settings.base_url = srv.base_url
    for name, value in settings.items():
        setattr(session.settings, name, value)
    return session


def echo(received: Received) -> Reply:
    """Reply with the prompt, in pieces, slowly enough for requests to overlap."""
    prompt = received.json["messages"][-1]["content"]
    return text_reply([f"<{prompt}>", " echoed"], interval=0.02)


async def wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


def test_achat_from_asyncio_run_records_the_thread() -> None:
    with FaultServer() as srv:
        session = session_for(srv)
        srv.respond = echo
        try:
            result = asyncio.run(achat("hi", session=session, thread="t", temperature=0))
            assert result.text == "<hi> echoed"
            assert [(m.role, m.text) for m in session.thread("t").messages] == [
                ("user", "hi"),
                ("assistant", "<hi> echoed"),
            ]
            assert srv.requests[-1].json["temperature"] == 0
        finally:
            session.close()


def test_concurrent_achat_each_gets_its_own_reply() -> None:
    with FaultServer() as srv:
        session = session_for(srv)
        srv.respond = echo

        async def go() -> list[str]:
            results = await asyncio.gather(*(achat(f"q{i}", session=session) for i in range(24)))
            return [r.text for r in results]

        try:
            assert asyncio.run(go()) == [f"<q{i}> echoed" for i in range(24)]
            assert srv.max_concurrent > 1  # they did overlap
        finally:
            session.close()


def test_async_events_arrive_in_order_and_complete() -> None:
    pieces = [f"t{i} " for i in range(600)]
    with FaultServer() as srv:
        session = session_for(srv)
        srv.enqueue(text_reply(pieces))

        async def go() -> tuple[list[str], Any]:
            texts: list[str] = []
            done = None
            async for item in session.turn(FAKE):
                if isinstance(item, ContentDelta):
                    texts.append(item.text)
                elif isinstance(item, StreamDone):
                    done = item.result
            return texts, done

        try:
            texts, done = asyncio.run(go())
            assert texts == pieces and done.text == "".join(pieces)
        finally:
            session.close()


def test_errors_reach_the_awaiting_caller() -> None:
    with FaultServer() as srv:
        session = session_for(srv)
        srv.enqueue(Reply(status=400, body=b'{"error": {"message": "prompt too long"}}'))
        try:
            with pytest.raises(BadRequestError, match="prompt too long"):
                asyncio.run(achat("hi", session=session, model="fake"))
        finally:
            session.close()


@pytest.mark.parametrize("how", ["achat", "async for"])
def test_cancelling_closes_the_connection(how: str) -> None:
    stalled = Reply(
        events=sse_events([{"choices": [{"index": 0, "delta": {"content": "x"}}]}] * 3)
    )
    stalled.stall_after = 1
    with FaultServer() as srv:
        session = session_for(srv)
        srv.enqueue(stalled)

        async def consume() -> None:
            if how == "achat":
                await achat("hi", session=session, model="fake")
            else:
                async for _ in session.turn(FAKE):
                    pass

        async def go() -> None:
            task = asyncio.create_task(consume())
            await wait_for(lambda: srv.in_flight == 1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await wait_for(lambda: srv.hung_up == 1 and srv.open_connections == 0)

        try:
            asyncio.run(go())
            pending = [t for t in asyncio.all_tasks(session.loop.loop) if not t.done()]
            assert pending == []
        finally:
            session.close()


def test_a_stall_ends_at_the_read_timeout_with_the_partial_kept() -> None:
    stalled = text_reply(["Once ", "upon ", "a time"])
    stalled.stall_after = 3  # role chunk + two pieces, then silence
    with FaultServer() as srv:
        session = session_for(srv, timeout=0.5)
        srv.enqueue(stalled)
        try:
            with pytest.raises(
                StreamInterrupted, match=r"stalled: nothing arrived for 0.5 s"
            ) as info:
                chat("hi", session=session, model="fake")
            assert info.value.partial is not None
            assert info.value.partial.text == "Once upon "
            assert info.value.partial.truncated
        finally:
            session.close()
        assert srv.wait_idle()  # the server has seen the hang-up before it stops
        assert srv.hung_up == 1


def test_plain_http_to_a_remote_host_needs_the_opt_in() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"object": "list", "data": [{"id": "m"}]})

    session = Session(api_key=KEY, transport=httpx.MockTransport(handler))
    session.settings.base_url = "http://example.invalid/v1"
    try:
        with pytest.raises(ConfigError, match=r"ChatSettings\.allow_insecure_http") as info:
            session.models()
        assert KEY not in str(info.value) and seen == []  # refused before sending
        session.settings.allow_insecure_http = True
        with pytest.warns(UserWarning, match="unencrypted"):
            assert session.models() == ["m"]
        assert seen[0].headers["authorization"] == f"Bearer {KEY}"
    finally:
        session.close()


def test_achat_does_not_block_the_callers_loop_while_models_load() -> None:
    with FaultServer() as srv:
        srv.models_delay = 0.5
        srv.respond = echo
        session = session_for(srv)

        async def go() -> tuple[str, bool]:
            seen_pending = False

            async def watch() -> None:
                nonlocal seen_pending
                while True:
                    seen_pending = seen_pending or srv.models_pending > 0
                    await asyncio.sleep(0.01)

            watcher = asyncio.create_task(watch())
            result = await achat("hi", session=session, model="fake")
            watcher.cancel()
            return result.text, seen_pending

        try:
            text, ran_meanwhile = asyncio.run(go())
            assert text == "<hi> echoed"
            assert ran_meanwhile  # the caller's loop ran while /models was pending
            assert [r.path for r in srv.requests].count("/v1/models") == 1
        finally:
            session.close()


def test_the_model_list_is_fetched_once_per_base_url() -> None:
    with FaultServer() as srv:
        srv.respond = echo
        session = session_for(srv)
        try:
            for prompt in ("one", "two"):  # no model given: the server's only one is used
                assert chat(prompt, session=session).text == f"<{prompt}> echoed"
            asyncio.run(achat("three", session=session))
            assert [r.path for r in srv.requests].count("/v1/models") == 1
            assert [r.json["model"] for r in srv.requests if r.json] == ["fake"] * 3
            session.models()  # asked for explicitly: fetched again
            assert [r.path for r in srv.requests].count("/v1/models") == 2
        finally:
            session.close()
