"""The cassette's transport: a miss is sent and recorded, a hit replays the same bytes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from nscale_jupyter._cassette import EXTENSION, Cassette
from nscale_jupyter._cassette_transport import CassetteTransport, _Paced
from nscale_jupyter._exceptions import CassetteError

BODY = b'data: {"x": 1}\n\ndata: [DONE]\n\n'
URL = "http://127.0.0.1:9/v1/chat/completions"
AUTH = {"Authorization": "Bearer sk-test-0123456789"}


def send(transport: CassetteTransport, payload: dict[str, object]) -> httpx.Response:
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport) as client:
            response = await client.post(URL, json=payload, headers=AUTH)
            await response.aread()
            return response

    return asyncio.run(go())


def test_a_miss_is_recorded_and_then_replayed_without_sending(tmp_path: Path) -> None:
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=BODY)

    path = tmp_path / "c.jsonl"
    live = send(CassetteTransport(Cassette(path, "record"), httpx.MockTransport(answer)), {"a": 1})
    assert live.content == BODY and live.extensions[EXTENSION].status == "miss"
    assert len(sent) == 1 and sent[0].headers["accept-encoding"] == "identity"
    assert json.loads(path.read_text().splitlines()[1])["response"]["lines"][0] == (
        'data: {"x": 1}'
    )
    replay = CassetteTransport(Cassette(path, "replay"), httpx.MockTransport(answer))
    again = send(replay, {"a": 1})
    assert again.content == BODY and again.extensions[EXTENSION].status == "hit"
    assert len(sent) == 1  # nothing sent
    with pytest.raises(CassetteError, match=r"nearest differs in a"):
        send(replay, {"a": 2})


def test_paced_pieces_are_the_same_bytes_one_event_each() -> None:
    body = b"data: 1\n\ndata: 2\n\ndata: [DONE]\n\n"

    async def pieces() -> list[bytes]:
        return [p async for p in _Paced(body, 0.0, 0.0)]

    got = asyncio.run(pieces())
    assert b"".join(got) == body and len(got) == 4  # one write per event, as it came
