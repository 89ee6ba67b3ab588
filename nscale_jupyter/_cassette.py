"""Cassettes: record the server's answers, replay them byte for byte with no network.

A ``CassetteTransport`` (``_cassette_transport``) wraps the client's httpx
transport and asks the cassette what to do with each request. A request is
keyed by its endpoint and canonical JSON body (sorted keys: model, messages,
every option, seed; never a header, so never the key); the n-th time the
same body is sent it gets the n-th recording. A recording keeps the status,
the content type, the raw body (SSE or JSON, as text lines) and the client's
timing, so a replay goes through the same decoder, accumulator and renderer
as a live answer, and shows the recorded time to first token and speed.

Modes: ``record`` (send everything, merge into the file), ``replay`` (never
send; a request with no recording is a :class:`CassetteError` naming the
field that differs from the nearest recording) and ``auto`` (replay what is
there, record what is not). The file is JSON Lines, one recording a line,
sorted by endpoint and key, so a re-record changes only the lines that
changed. The key is scrubbed from everything stored, also from bodies that
echo it.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._exceptions import CassetteError
from ._provenance import canonical_json, first_difference, request_hash

__all__ = ["MODES", "Cassette", "Tape", "open_cassette", "scrub"]

MODES = ("record", "replay", "auto")
FORMAT = "nscale-cassette/1"
#: What a response extension is called that tells the client about a cassette.
EXTENSION = "nscale_cassette"
SCRUBBED = "<scrubbed>"
#: Seconds a recorded answer waits before its file is written (the turn ends first).
WRITE_DELAY = 0.25


def scrub(value: Any, secret: str | None) -> Any:
    """``value`` (JSON) with every occurrence of ``secret`` replaced."""
    if not secret:
        return value
    if isinstance(value, str):
        return value.replace(secret, SCRUBBED)
    if isinstance(value, list):
        return [scrub(v, secret) for v in value]
    if isinstance(value, dict):
        return {scrub(k, secret): scrub(v, secret) for k, v in value.items()}
    return value


def endpoint(path: str) -> str:
    """The API path without the base URL's prefix: the same offline and online."""
    for tail in ("chat/completions", "models"):
        if path.rstrip("/").endswith("/" + tail):
            return tail
    return path


@dataclass
class Tape:
    """What a response tells the client about its cassette (``response.extensions``).

    ``status``: ``"hit"`` (replayed) or ``"miss"`` (live, being recorded).
    ``timing``: the recorded (time to first token, elapsed) of a hit.
    """

    status: str
    timing: tuple[float | None, float | None] | None = None
    _entry: dict[str, Any] | None = None
    _cassette: Cassette | None = None

    def note_timing(self, first_token: float | None, elapsed: float | None) -> None:
        """The client's timing of a recorded answer, kept so a replay shows the same."""
        entry = self._entry
        if entry is not None and self._cassette is not None:
            timing = {"first_token": first_token, "elapsed": elapsed}
            self._entry = {**entry, "response": {**entry["response"], "timing": timing}}
            self._cassette.put(self._entry)
            self._cassette.save_soon()


class Cassette:
    """The recordings of one file, and how many times each request was sent so far."""

    def __init__(self, path: str | os.PathLike[str], mode: str = "auto") -> None:
        if mode not in MODES:
            raise CassetteError(f"cassette mode {mode!r}: use one of {', '.join(MODES)}")
        self.path = Path(path)
        self.mode = mode
        self.pace = False  # replay at the recorded pace (ChatSettings.cassette_pace)
        self.entries: dict[tuple[str, str, int], dict[str, Any]] = {}
        #: Each entry's line, once made (by the entry it was made from).
        self._lines: dict[tuple[str, str, int], tuple[int, str]] = {}
        self._stamps: dict[tuple[str, str, int], int] = {}  # which put() an entry came from
        self._made = 0
        self.dirty = False  # recordings not yet written
        self._writer: Any = None  # one thread writes the file, after the answer is shown
        self._pending: Any = None
        self._now = threading.Event()  # set: write without waiting
        self._seen: Counter[tuple[str, str]] = Counter()
        if self.path.is_file():
            self._load()

    def __repr__(self) -> str:
        return f"<Cassette {str(self.path)!r} mode={self.mode} recordings={len(self.entries)}>"

    def _load(self) -> None:
        for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError as exc:
                raise CassetteError(f"{self.path}:{number}: not JSON ({exc})") from None
            if "format" in entry:
                continue
            self.entries[_place(entry)] = entry
            self._lines[_place(entry)] = (0, line)

    def put(self, entry: dict[str, Any]) -> None:
        """Add (or replace) a recording (a new dict each time); ``save()`` writes it."""
        self.entries[_place(entry)] = entry
        self._made += 1
        self._stamps[_place(entry)] = self._made
        self.dirty = True

    def save(self) -> None:
        """Write every recording now, sorted, one a line (atomically)."""
        self.flush()
        self._write(self._snapshot())

    def save_soon(self) -> None:
        """Write in the background, a moment later: the turn that recorded an answer
        ends (and shows it) first. ``flush()`` (on close, at the end of ``cassette()``)
        and the interpreter's exit do not wait for the moment."""
        from concurrent.futures import ThreadPoolExecutor

        if self._writer is None:
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="nscale-cassette")
        self.dirty = False
        self._pending = self._writer.submit(self._write_later, self._snapshot())

    def _write_later(self, entries: list[Any]) -> None:
        self._now.wait(WRITE_DELAY)
        self._write(entries)

    def flush(self) -> None:
        """Wait for a background write; write what is not written yet."""
        if self._pending is not None:
            self._now.set()
            self._pending.result()
            self._pending = None
            self._now.clear()
        if self.dirty:
            self._write(self._snapshot())

    def _snapshot(self) -> list[tuple[tuple[str, str, int], int, dict[str, Any]]]:
        self.dirty = False
        return [(k, self._stamps.get(k, 0), self.entries[k]) for k in sorted(self.entries)]

    def _write(self, entries: list[tuple[tuple[str, str, int], int, dict[str, Any]]]) -> None:
        lines = [json.dumps({"format": FORMAT}, sort_keys=True)]
        for k, stamp, entry in entries:
            made = self._lines.get(k)
            if made is None or made[0] != stamp:
                made = self._lines[k] = (stamp, _line(entry))
            lines.append(made[1])
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)

    # -- lookups ------------------------------------------------------------------------
    def count_send(self, place: str, key: str) -> int:
        """This send's number among the sends of the same body (0 for the first)."""
        n = self._seen[(place, key)]
        self._seen[(place, key)] += 1
        return n

    def recorded(self, place: str, key: str) -> list[dict[str, Any]]:
        found = [(k[2], e) for k, e in self.entries.items() if k[0] == place and k[1] == key]
        return [e for _, e in sorted(found, key=lambda t: t[0])]

    def would_replay(self, place: str, body: Any, secret: str | None = None) -> bool:
        """True when a request would be answered from the cassette (nothing sent)."""
        return self.mode != "record" and bool(self.recorded(place, key_of(body, secret)))

    def miss_message(self, place: str, body: Any) -> str:
        """One line: no recording, and the field that differs from the nearest one."""
        others = [e["request"].get("body") for k, e in self.entries.items() if k[0] == place]
        head = f"cassette {self.path.name} has no recording of this {place} request"
        if not others:
            return f"{head} (it has none for {place}); record it with mode='auto' or 'record'"

        def distance(other: Any) -> int:
            if not isinstance(other, dict) or not isinstance(body, dict):
                return 1 << 30
            keys = set(other) | set(body)
            return sum(other.get(k) != body.get(k) for k in keys)

        nearest = min(others, key=distance)
        where = first_difference(body, nearest) or "?"
        now, then = _at(body, where), _at(nearest, where)
        return f"{head}; nearest differs in {where}: recorded {then}, now {now}"


def open_cassette(
    cache: dict[tuple[str, str], Cassette], path: str | None, mode: str
) -> Cassette | None:
    """The cassette of ``path`` in ``mode`` from ``cache`` (one per file and mode: its
    send counts go on); another mode's recordings of the file are written first."""
    if not path:
        return None
    key = (os.path.abspath(path), mode)
    if key not in cache:
        for (other, _), tape in cache.items():
            if other == key[0]:
                tape.flush()
        cache[key] = Cassette(path, mode)
    return cache[key]


def _place(entry: Mapping[str, Any]) -> tuple[str, str, int]:
    return entry["request"]["endpoint"], entry["key"], entry["n"]


def key_of(body: Any, secret: str | None) -> str:
    """The key of a request body: the hash of its scrubbed canonical JSON."""
    return request_hash(scrub(body, secret))


def _at(value: Any, path: str) -> str:
    """A short repr of the value at ``path`` (``messages[1].content``)."""
    import re

    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path.split(" (")[0]):
        if part.startswith("[") and isinstance(value, list):
            i = int(part[1:-1])
            value = value[i] if i < len(value) else None
        elif isinstance(value, dict):
            value = value.get(part, "(absent)")
        else:
            break
    text = canonical_json(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _line(entry: Mapping[str, Any]) -> str:
    """An entry as its line of the file: sorted keys, the body as text lines.

    The lines are encoded one by one, so the thread that writes the file lets
    the others run in between (a long answer has tens of thousands).
    """
    response = entry["response"]
    if "raw" not in response:
        return json.dumps(entry, sort_keys=True, ensure_ascii=False)
    body = _lines(response["raw"])
    name = "lines" if "lines" in body else "base64"
    mark = "\x00body\x00"
    rest = {k: v for k, v in response.items() if k != "raw"}
    head = json.dumps(
        {**entry, "response": {**rest, name: mark}}, sort_keys=True, ensure_ascii=False
    )
    if name == "lines":
        text = "[" + ", ".join([json.dumps(x, ensure_ascii=False) for x in body["lines"]]) + "]"
    else:
        text = json.dumps(body["base64"])
    before, _, after = head.rpartition(json.dumps(mark))  # the last: status, timing follow
    return before + text + after


def _lines(raw: bytes) -> dict[str, Any]:
    """The body as text lines (diffable), or base64 when it is not UTF-8."""
    try:
        return {"lines": raw.decode("utf-8").split("\n")}
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(raw).decode("ascii")}


def body_of(response: Mapping[str, Any]) -> bytes:
    """A recorded response's body bytes (kept raw, base64 or text lines)."""
    if "raw" in response:
        return bytes(response["raw"])
    if "base64" in response:
        return base64.b64decode(response["base64"])
    return "\n".join(response.get("lines") or ()).encode("utf-8")
