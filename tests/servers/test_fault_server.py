"""The loopback fault server behaves as scripted, seen by a plain HTTP client."""

from __future__ import annotations

import httpx
import pytest

from nscale_jupyter import ChatRequest, Client, Message, StreamInterrupted

from .fault_server import FaultServer, Reply, text_reply

REQUEST = ChatRequest(model="fake", messages=(Message.user("hi"),), stream=True)


def test_streams_scripted_text_and_records_requests() -> None:
    with FaultServer() as srv, Client(base_url=srv.base_url) as client:
        srv.enqueue(text_reply(["a", "b", "c"]))
        assert client.chat(REQUEST).text == "abc"
        assert srv.requests[-1].json["messages"] == [{"role": "user", "content": "hi"}]
        assert [m.id for m in client.models()] == ["fake"]


def test_drop_after_n_events_is_a_broken_stream() -> None:
    with FaultServer() as srv, Client(base_url=srv.base_url) as client:
        srv.enqueue(Reply(events=text_reply(["a", "b", "c"]).events, drop_after=2))
        with pytest.raises(StreamInterrupted) as info:
            client.chat(REQUEST)
        assert info.value.partial is not None and info.value.partial.text == "a"


def test_error_status_and_body() -> None:
    with FaultServer() as srv:
        srv.enqueue(Reply(status=404, body=b'{"error": {"message": "nope"}}'))
        response = httpx.post(srv.base_url + "/chat/completions", json={})
        assert response.status_code == 404 and response.json()["error"]["message"] == "nope"
