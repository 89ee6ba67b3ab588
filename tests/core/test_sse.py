"""The SSE decoder, line by line, per the spec (wire-format §4.1)."""

from __future__ import annotations

import pytest

from nscale_jupyter._sse import ServerSentEvent, SSEDecoder


def decode(*reads: bytes, flush: bool = True) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events = [e for r in reads for e in decoder.feed(r)]
    return events + (decoder.flush() if flush else [])


def datas(*reads: bytes) -> list[str]:
    return [e.data for e in decode(*reads)]


def test_simple_events() -> None:
    assert datas(b"data: a\n\ndata: b\n\n") == ["a", "b"]


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
def test_every_line_ending(eol: bytes) -> None:
    body = b"data: one" + eol + eol + b"data: two" + eol + eol
    assert datas(body) == ["one", "two"]


def test_crlf_split_between_reads() -> None:
    # "\r" ends one read and "\n" starts the next: one line ending, not two.
    assert datas(b"data: a\r", b"\ndata: b\r\n\r", b"\n") == ["a\nb"]


def test_lone_cr_at_read_end_then_text() -> None:
    assert datas(b"data: a\r", b"\r", b"data: b\r\r") == ["a", "b"]


def test_comments_and_keepalives_are_ignored() -> None:
    assert datas(b": ping\n\n:keepalive\ndata: x\n\n") == ["x"]


def test_multi_line_data_joined_with_newline() -> None:
    assert datas(b'data: {"a":\ndata: 1}\n\n') == ['{"a":\n1}']


def test_field_without_space_and_without_colon() -> None:
    assert datas(b"data:x\n\n") == ["x"]
    assert datas(b"data\n\n") == [""]
    assert datas(b"data:  two spaces\n\n") == [" two spaces"]


def test_event_id_retry_fields() -> None:
    (e,) = decode(b"event: error\nid: 7\nretry: 1500\ndata: {}\n\n")
    assert (e.event, e.id, e.retry, e.data) == ("error", "7", 1500, "{}")


def test_event_name_resets_after_dispatch_but_id_persists() -> None:
    a, b = decode(b"event: x\nid: 1\ndata: a\n\ndata: b\n\n")
    assert (a.event, a.id) == ("x", "1")
    assert (b.event, b.id) == (None, "1")


def test_unknown_fields_ignored_and_bad_retry_ignored() -> None:
    (e,) = decode(b"foo: bar\nretry: soon\ndata: z\n\n")
    assert (e.data, e.retry) == ("z", None)


def test_blank_lines_without_data_do_not_dispatch() -> None:
    assert datas(b"\n\n\nevent: x\n\ndata: y\n\n") == ["y"]


@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\u0085", "\x0b", "\x0c", "\x1c"])
def test_unicode_line_separators_do_not_split(char: str) -> None:
    body = f'data: {{"content": "a{char}b"}}\n\n'.encode()
    assert datas(body) == [f'{{"content": "a{char}b"}}']


def test_multibyte_character_split_across_reads() -> None:
    body = "data: héllo 😀\n\n".encode()
    cut = body.index("😀".encode()) + 2
    (e,) = decode(body[:cut], body[cut:])
    assert e.data == "héllo 😀"


def test_final_event_without_blank_line_is_dispatched_at_eof() -> None:
    assert datas(b"data: a\n\ndata: [DONE]\n") == ["a", "[DONE]"]


def test_unterminated_last_line_is_dropped_at_eof() -> None:
    assert datas(b'data: a\n\ndata: {"cut') == ["a"]


def test_one_byte_reads() -> None:
    body = b"data: a\r\n\r\n: c\r\ndata: b\r\n\r\n"
    assert datas(*(body[i : i + 1] for i in range(len(body)))) == ["a", "b"]


def test_no_dispatch_before_blank_line() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n") == []
    assert [e.data for e in decoder.feed(b"\n")] == ["a"]


def test_event_equality_and_repr() -> None:
    a = ServerSentEvent(b"x", "e")
    assert a == ServerSentEvent(b"x", "e")
    assert a != ServerSentEvent(b"y", "e")
    assert "x" in repr(a)
