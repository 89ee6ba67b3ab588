"""Cassettes against a real loopback server: record, replay with the server gone, misses, keys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import nscale_jupyter as nj
from nscale_jupyter._cassette import Cassette
from nscale_jupyter._session import Session
from nscale_jupyter._settings import ChatSettings
from tests.servers.fault_server import FaultServer, Received, Reply, text_reply

KEY = "sk-SENTINEL-cassette-41c9"
CLOSED = "http://127.0.0.1:9/v1"  # nothing listens there: a replay must not need it


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


def session(base_url: str, **settings: object) -> Session:
    return Session(ChatSettings(base_url=base_url, **settings), api_key=KEY)


def record(srv: FaultServer, path: Path, mode: str = "record") -> list[nj.ChatResult]:
    s = session(srv.base_url)
    try:
        with nj.cassette(path, mode, session=s):
            return [
                nj.chat("hi", session=s, temperature=0),
                nj.chat("count", session=s, temperature=0, seed=3, max_tokens=9),
            ]
    finally:
        s.close()


def test_replay_needs_no_server_and_gives_the_same_answers(
    server: FaultServer, tmp_path: Path
) -> None:
    path = tmp_path / "lesson.jsonl"
    live = record(server, path)
    assert [r.provenance.cassette for r in live if r.provenance] == ["miss", "miss"]
    s = session(CLOSED)
    with nj.cassette(path, "replay", session=s):
        again = [
            nj.chat("hi", session=s, temperature=0),
            nj.chat("count", session=s, temperature=0, seed=3, max_tokens=9),
        ]
    s.close()
    assert again == live
    # The footer's timings come from the cassette; only the provenance says "replayed".
    assert [r.timing for r in again] == [r.timing for r in live]
    assert all(r.provenance is not None and r.provenance.replayed for r in again)
    assert [r.provenance.request_hash for r in again if r.provenance] == [
        r.provenance.request_hash for r in live if r.provenance
    ]


def test_file_is_sorted_json_lines_and_a_rerecord_changes_nothing(
    server: FaultServer, tmp_path: Path
) -> None:
    path = tmp_path / "c.jsonl"
    record(server, path)
    first = path.read_text()
    lines = [json.loads(line) for line in first.splitlines()]
    assert lines[0] == {"format": "nscale-cassette/1"}
    keys = [(e["request"]["endpoint"], e["key"], e["n"]) for e in lines[1:]]
    assert keys == sorted(keys) and {k[0] for k in keys} == {"chat/completions", "models"}
    record(server, path)  # the same answers again: not one line changes
    assert path.read_text() == first


def test_the_key_is_never_stored_even_when_the_server_echoes_it(
    server: FaultServer, tmp_path: Path
) -> None:
    def echo(received: Received) -> Reply:
        said = f"you sent {received.headers['authorization']} and {KEY}"
        return text_reply([said])

    server.respond = echo
    path = tmp_path / "c.jsonl"
    s = session(server.base_url)
    with nj.cassette(path, "record", session=s):
        nj.chat(f"my key is {KEY}", session=s)
    s.close()
    stored = path.read_text()
    assert KEY not in stored and "authorization" not in stored.lower()
    assert "<scrubbed>" in stored


def test_a_miss_names_the_field_that_differs_in_one_line(
    server: FaultServer, tmp_path: Path
) -> None:
    path = tmp_path / "c.jsonl"
    record(server, path)
    s = session(CLOSED)
    with nj.cassette(path, "replay", session=s):
        with pytest.raises(nj.CassetteError) as info:
            nj.chat("count", session=s, temperature=0, seed=4, max_tokens=9)
        message = str(info.value)
        assert "\n" not in message and "nearest differs in seed: recorded 3, now 4" in message
        with pytest.raises(nj.CassetteError, match=r"messages\[0\]\.content"):
            nj.chat("hello", session=s, temperature=0)
    s.close()


def test_auto_replays_what_is_there_and_records_the_rest(
    server: FaultServer, tmp_path: Path
) -> None:
    path = tmp_path / "c.jsonl"
    record(server, path)
    sent = len(server.requests)
    s = session(server.base_url)
    with nj.cassette(path, session=s):  # no mode: auto
        nj.chat("hi", session=s, temperature=0)
        assert len(server.requests) == sent  # replayed (the model list too)
        new = nj.chat("new question", session=s, temperature=0)
    s.close()
    assert new.provenance is not None and new.provenance.cassette == "miss"
    assert len(server.requests) == sent + 1
    assert len(Cassette(path).entries) == 4  # merged: the old ones stay


def test_record_merges_into_an_existing_file(server: FaultServer, tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    record(server, path)
    s = session(server.base_url)
    with nj.cassette(path, "record", session=s):
        nj.chat("another", session=s, temperature=0)
    s.close()
    assert len(Cassette(path).entries) == 4


def test_error_responses_are_recorded_and_replayed(server: FaultServer, tmp_path: Path) -> None:
    body = json.dumps({"error": {"message": "bad value", "type": "BadRequestError"}}).encode()
    server.enqueue(Reply(status=400, body=body))
    path = tmp_path / "c.jsonl"
    s = session(server.base_url)
    with nj.cassette(path, "record", session=s), pytest.raises(nj.BadRequestError):
        nj.chat("hi", session=s, top_p=0.5)
    s.close()
    s = session(CLOSED)
    with nj.cassette(path, "replay", session=s), pytest.raises(nj.BadRequestError, match="bad"):
        nj.chat("hi", session=s, top_p=0.5)
    s.close()


def test_the_setting_turns_it_on_and_the_nth_send_gets_the_nth_answer(
    server: FaultServer, tmp_path: Path
) -> None:
    replies = iter(["one", "two"])
    server.respond = lambda r: text_reply([next(replies)])
    path = tmp_path / "c.jsonl"
    s = session(server.base_url, cassette=str(path), cassette_mode="record")
    assert [nj.chat("roll", session=s).text for _ in range(2)] == ["one", "two"]
    s.close()
    s = session(CLOSED, cassette=str(path), cassette_mode="replay")
    assert [nj.chat("roll", session=s).text for _ in range(3)] == ["one", "two", "two"]
    s.close()
    s = session(CLOSED, cassette=str(path))  # no mode: auto; a rerun replays the last one
    assert s.cassette is not None and s.cassette.mode == "auto"
    assert [nj.chat("roll", session=s).text for _ in range(3)] == ["one", "two", "two"]
    s.close()


def test_a_bad_mode_is_the_projects_error(tmp_path: Path) -> None:
    with (
        pytest.raises(nj.CassetteError, match="record, replay, auto"),
        nj.cassette(tmp_path / "c.jsonl", "rewind"),
    ):
        pass


def test_a_line_is_the_entry_as_sorted_json() -> None:
    from nscale_jupyter._cassette import _line

    raw = 'data: {"a": "é\\"x"}\n\ndata: [DONE]\n\n'.encode()
    entry = {
        "key": "k",
        "n": 0,
        "request": {"method": "POST", "endpoint": "chat/completions", "body": {"b": 1}},
        "response": {"status": 200, "headers": {}, "raw": raw, "timing": {"elapsed": 1.0}},
    }
    lines = raw.decode().split("\n")
    plain = {**entry, "response": {**entry["response"], "lines": lines}}
    del plain["response"]["raw"]
    assert _line(entry) == json.dumps(plain, sort_keys=True, ensure_ascii=False)
    binary = {**entry, "response": {**entry["response"], "raw": b"\xff\xfe"}}
    assert json.loads(_line(binary))["response"]["base64"] == "//4="


def test_a_paced_replay_gives_the_same_bytes_and_answer(
    server: FaultServer, tmp_path: Path
) -> None:
    path = tmp_path / "c.jsonl"
    live = record(server, path)
    s = session(CLOSED, cassette=str(path), cassette_mode="replay", cassette_pace=True)
    assert nj.chat("hi", session=s, temperature=0) == live[0]
    s.close()
