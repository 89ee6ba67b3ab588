"""What a batch keeps: one slim ``Row`` per item, the ``BatchResult``, the checkpoint file.

Pure (no I/O but the checkpoint's own file). A row holds the answer, its
structured fields, usage and timing, not the whole ``ChatResult``, so ten
thousand rows stay small. The checkpoint is JSON Lines, one finished row a
line, keyed by row index and a hash of what was sent: a changed prompt,
option or schema does not reuse a stale answer.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ._results import Usage

__all__ = ["BatchResult", "Checkpoint", "Progress", "Row", "row_key"]


#: The error of a row an interrupted batch never finished (a rerun sends it).
NOT_RUN = "not run"


@dataclass(frozen=True, slots=True)
class Row:
    """One item's outcome: an answer (maybe flagged), or the error that ended it."""

    index: int
    answer: str | None = None
    #: Structured columns parsed from the answer (``output=``).
    fields: Mapping[str, Any] | None = None
    #: Why a structured answer was flagged (not JSON, or not fitting the schema).
    problem: str | None = None
    error: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency: float | None = None
    finish_reason: str | None = None
    retries: int = 0
    #: Read back from the checkpoint, not sent this time.
    resumed: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and self.answer is not None

    def to_record(self, key: str) -> dict[str, Any]:
        return {
            "i": self.index,
            "key": key,
            "answer": self.answer,
            "fields": self.fields,
            "problem": self.problem,
            "usage": [self.prompt_tokens, self.completion_tokens],
            "latency": self.latency,
            "finish": self.finish_reason,
        }

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> Row:
        usage = data.get("usage") or [0, 0]
        return cls(
            index=int(data["i"]),
            answer=data.get("answer"),
            fields=data.get("fields"),
            problem=data.get("problem"),
            prompt_tokens=int(usage[0] or 0),
            completion_tokens=int(usage[1] or 0),
            latency=data.get("latency"),
            finish_reason=data.get("finish"),
            resumed=True,
        )


def row_key(prompt: str, options: Mapping[str, Any]) -> str:
    """A short hash of what a row sends (its filled prompt and the request options)."""
    text = json.dumps([prompt, options], sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Checkpoint:
    """Finished rows in a JSON Lines file: appended and flushed one by one."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file: IO[str] | None = None

    def load(self, keys: Sequence[str]) -> dict[int, Row]:
        """The rows already done whose key still matches (a torn last line is ignored)."""
        done: dict[int, Row] = {}
        if not self.path.exists():
            return done
        with self.path.open(encoding="utf-8") as f:
            for line in f:
                try:
                    data = json.loads(line)
                    index = int(data["i"])
                except (ValueError, KeyError, TypeError):
                    continue  # cut short by an interrupt or a killed kernel
                if 0 <= index < len(keys) and data.get("key") == keys[index]:
                    done[index] = Row.from_record(data)
        return done

    def append(self, row: Row, key: str) -> None:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
            if self._file.tell() and not self.path.read_bytes().endswith(b"\n"):
                self._file.write("\n")  # after a torn line: start clean
        self._file.write(json.dumps(row.to_record(key), ensure_ascii=False, default=str) + "\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
        self._file = None


@dataclass(frozen=True)
class Progress:
    """How far a batch is (what the progress bar shows)."""

    total: int
    done: int = 0
    failed: int = 0
    retried: int = 0
    tokens: int = 0
    resumed: int = 0
    elapsed: float = 0.0
    finished: bool = False

    @property
    def rate(self) -> float:
        """Rows finished per second this run (resumed rows not counted)."""
        sent = self.done + self.failed - self.resumed
        return sent / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def time_left(self) -> float | None:
        left = self.total - self.done - self.failed
        if left <= 0:
            return 0.0
        return left / self.rate if self.rate > 0 else None

    def line(self) -> str:
        """One line: ``37/100 done, 1 failed, 2 retried, 1,234 tokens, 8.1/s, 8 s left``."""
        eta = self.time_left
        left = "" if eta is None or self.finished else f", {eta:.0f} s left"
        return (
            f"{self.done}/{self.total} done, {self.failed} failed, {self.retried} retried, "
            f"{self.tokens:,} tokens, {self.rate:.1f}/s{left}"
        )


@dataclass(frozen=True)
class BatchResult:
    """Rows in input order: answers, per-row errors, usage totals, ``to_pandas()``."""

    rows: tuple[Row, ...]
    #: Structured columns (``output=``), or None for plain answers.
    columns: tuple[str, ...] | None = None
    interrupted: bool = False
    retries: int = 0
    elapsed: float = 0.0
    #: The DataFrame the batch was given (never changed; ``to_pandas`` copies it).
    source: Any = field(default=None, repr=False, compare=False)
    created: float = field(default_factory=time.time, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    def __getitem__(self, index: int) -> Row:
        return self.rows[index]

    @property
    def answers(self) -> list[str | None]:
        return [r.answer for r in self.rows]

    @property
    def errors(self) -> list[str | None]:
        """Per row: why it failed (None when it did not)."""
        return [r.error for r in self.rows]

    @property
    def failed(self) -> list[int]:
        return [r.index for r in self.rows if r.error is not None]

    @property
    def flagged(self) -> list[int]:
        """Rows whose structured answer did not parse or fit (kept, with ``problem``)."""
        return [r.index for r in self.rows if r.problem is not None]

    @property
    def usage(self) -> Usage:
        p = sum(r.prompt_tokens for r in self.rows)
        c = sum(r.completion_tokens for r in self.rows)
        return Usage(prompt_tokens=p, completion_tokens=c, total_tokens=p + c)

    def summary(self) -> str:
        done = sum(r.ok for r in self.rows)
        parts = [f"{done}/{len(self.rows)} done"]
        not_run = sum(r.error == NOT_RUN for r in self.rows)
        if len(self.failed) > not_run:
            parts.append(f"{len(self.failed) - not_run} failed")
        if not_run:
            parts.append(f"{not_run:,} not run")
        if self.flagged:
            parts.append(f"{len(self.flagged)} flagged")
        resumed = sum(r.resumed for r in self.rows)
        if resumed:
            parts.append(f"{resumed} from the checkpoint")
        if self.retries:
            parts.append(f"{self.retries} retried")
        parts.append(f"{self.usage.total_tokens:,} tokens")
        if self.interrupted:
            parts.append("interrupted")
        return ", ".join(parts)

    def __repr__(self) -> str:
        return f"<BatchResult {self.summary()}>"

    def _repr_markdown_(self) -> str:
        return f"**Batch**: {self.summary()}"

    def table(self, into: str = "answer") -> list[dict[str, Any]]:
        """One dict per row: the answer (or the structured columns) and any error."""
        out = []
        for r in self.rows:
            if self.columns is not None:
                record = {c: (r.fields or {}).get(c) for c in self.columns}
                record["problem"] = r.problem
            else:
                record = {into: r.answer}
            record["error"] = r.error
            out.append(record)
        return out

    def to_pandas(self, into: str = "answer") -> Any:
        """A DataFrame: the input's columns (when a DataFrame was given) plus the answer
        column ``into``, or the structured columns; ``error`` (and ``problem``) when any."""
        import pandas as pd  # type: ignore[import-untyped,unused-ignore]

        table = pd.DataFrame(self.table(into))
        if not self.failed:
            table = table.drop(columns="error")
        if self.columns is not None and not self.flagged:
            table = table.drop(columns="problem")
        if self.source is None:
            return table
        frame = self.source.copy()
        table.index = frame.index
        for column in table.columns:
            frame[column] = table[column]
        return frame
