"""Grid: every prompt x model x option values x seed, scored (session layer).

A grid is a batch whose rows carry their own options: the same turns, the
same worker pool, progress, 429 handling and interrupt. ``GridResult`` has
one row per run, a pivot table, a plot and JSON Lines.
"""

from __future__ import annotations

import inspect
import itertools
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._batch_plan import BatchPlan, Job, turn_options
from ._options import OptionError, option
from ._rows import BatchResult, row_key
from ._turn import TurnSpec

if TYPE_CHECKING:
    from ._session import Session

__all__ = ["GridPlan", "GridResult", "GridRun", "grid_result", "plan_grid", "scorer"]

Score = Callable[[str, Any], float | None]


def scorer(score: Any) -> Score | None:
    """``score=``: a callable (``f(answer)`` or ``f(answer, expected)``), "exact", "json"
    or "regex:PATTERN"; each gives a number (1.0 / 0.0 for the named ones)."""
    if score is None:
        return None
    if callable(score):
        try:
            takes = len(inspect.signature(score).parameters)
        except (TypeError, ValueError):
            takes = 2
        if takes == 1:
            return lambda answer, expected: _number(score(answer))
        return lambda answer, expected: _number(score(answer, expected))
    if score == "exact":
        return lambda a, e: None if e is None else float(a.strip() == str(e).strip())
    if score == "json":
        return _json_score
    if isinstance(score, str) and score.startswith("regex:"):
        try:
            pattern = re.compile(score.removeprefix("regex:"))
        except re.error as exc:
            raise OptionError(f"score: bad regex: {exc}") from None
        return lambda a, e: float(pattern.search(a) is not None)
    raise OptionError('score: a callable, "exact", "json" or "regex:PATTERN"')


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _json_score(answer: str, expected: Any) -> float:
    """1.0 when the answer is JSON (and equals ``expected``, when one is given)."""
    try:
        value = json.loads(answer)
    except (ValueError, RecursionError):
        return 0.0
    if expected is None:
        return 1.0
    want = json.loads(expected) if isinstance(expected, str) else expected
    return float(value == want)


@dataclass(frozen=True, slots=True)
class GridRun:
    """One run: which prompt, model, option values and seed; what came back."""

    prompt: str
    model: str | None
    options: Mapping[str, Any]
    seed: int | None
    answer: str | None
    score: float | None
    latency: float | None
    tokens: int
    error: str | None = None
    expected: Any = None

    def record(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(out.pop("options"))
        return out


@dataclass(frozen=True)
class GridPlan:
    batch: BatchPlan
    cells: tuple[tuple[str | None, Mapping[str, Any], int | None], ...]
    prompts: tuple[tuple[str, Any], ...]
    axes: tuple[str, ...]
    score: Score | None


def _prompts(prompts: Any) -> list[tuple[str, Any]]:
    if isinstance(prompts, str):
        return [(prompts, None)]
    if isinstance(prompts, Mapping):
        return [(str(p), e) for p, e in prompts.items()]
    out = []
    for p in prompts:
        if isinstance(p, str):
            out.append((p, None))
        elif isinstance(p, Mapping) and isinstance(p.get("prompt"), str):
            out.append((p["prompt"], p.get("expected")))
        else:
            raise OptionError("grid: prompts are strings, {prompt: expected} or dicts")
    return out


def plan_grid(
    session: Session,
    prompts: Any,
    *,
    models: Sequence[str] | None = None,
    options: Mapping[str, Sequence[Any]] | None = None,
    seeds: Sequence[int] | None = None,
    score: Any = None,
    concurrency: int = 8,
    **fixed: Any,
) -> GridPlan:
    """Every combination, checked now (a bad value raises before anything is sent)."""
    if concurrency < 1:
        raise OptionError("grid: concurrency must be at least 1")
    base, turn = turn_options(fixed)
    turn.setdefault("stream", False)
    spec = TurnSpec(options=base, tools=(), record=False, run_tools=False, **turn)
    axes = tuple(option(n).name for n in options or {})
    values = [[option(n).validate(v) for v in vs] for n, vs in (options or {}).items()]
    cells = [
        (model, dict(zip(axes, combo, strict=True)), seed)
        for model in (list(models) if models else [None])
        for combo in itertools.product(*values)
        for seed in (list(seeds) if seeds else [None])
    ]
    items = _prompts(prompts)
    jobs: list[Job] = []
    for (model, combo, seed), (text, _) in itertools.product(cells, items):
        opts = {**base, **combo}
        if model is not None:
            opts["model"] = model
        if seed is not None:
            opts["seed"] = seed
        sent = session.options_for(replace(spec, options=opts))  # checks the combination
        jobs.append(Job(len(jobs), text, row_key(text, sent), opts))
    batch = BatchPlan(tuple(jobs), spec, concurrency=concurrency)
    return GridPlan(batch, tuple(cells), tuple(items), axes, scorer(score))


def grid_result(plan: GridPlan, batch: BatchResult) -> GridResult:
    runs = []
    for row, ((model, combo, seed), (text, expected)) in zip(
        batch.rows, itertools.product(plan.cells, plan.prompts), strict=True
    ):
        score = None
        if plan.score is not None and row.answer is not None:
            score = plan.score(row.answer, expected)
        tokens = row.prompt_tokens + row.completion_tokens
        runs.append(GridRun(text, model, combo, seed, row.answer, score, row.latency, tokens,
                            row.error, expected))  # fmt: skip
    return GridResult(tuple(runs), plan.axes, interrupted=batch.interrupted)


@dataclass(frozen=True)
class GridResult:
    """One row per run (answer, score, latency, tokens); ``pivot()``, ``plot()``, JSON Lines."""

    runs: tuple[GridRun, ...]
    axes: tuple[str, ...] = ()
    interrupted: bool = False

    def __len__(self) -> int:
        return len(self.runs)

    def __iter__(self) -> Iterator[GridRun]:
        return iter(self.runs)

    def __getitem__(self, index: int) -> GridRun:
        return self.runs[index]

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns that tell cells apart: model, each option axis, seed."""
        return ("model", *self.axes, "seed")

    def cell_label(self, run: GridRun) -> str:
        parts = [run.model or "default"] if any(r.model for r in self.runs) else []
        parts += [f"{k}={run.options[k]}" for k in self.axes]
        if run.seed is not None:
            parts.append(f"seed={run.seed}")
        return ", ".join(parts) or "all"

    def cells(self) -> list[dict[str, Any]]:
        """Per cell (model x options x seed): mean score, mean latency, tokens, errors."""
        groups: dict[str, list[GridRun]] = {}
        for run in self.runs:
            groups.setdefault(self.cell_label(run), []).append(run)
        out = []
        for label, runs in groups.items():
            scores = [r.score for r in runs if r.score is not None]
            lat = [r.latency for r in runs if r.latency is not None and r.error is None]
            out.append({
                "cell": label,
                "runs": len(runs),
                "score": sum(scores) / len(scores) if scores else None,
                "latency": sum(lat) / len(lat) if lat else None,
                "tokens": sum(r.tokens for r in runs),
                "errors": sum(r.error is not None for r in runs),
            })  # fmt: skip
        return out

    def to_pandas(self) -> Any:
        import pandas as pd  # type: ignore[import-untyped,unused-ignore]

        return pd.DataFrame([r.record() for r in self.runs])

    def pivot(self, values: str = "score", columns: str = "prompt") -> Any:
        """A pivot table (pandas): one row per cell, one column per prompt, the mean
        of ``values`` ("score", "latency" or "tokens") over seeds."""
        import pandas as pd  # type: ignore[import-untyped,unused-ignore]

        frame = self.to_pandas()
        index = [c for c in self.columns if c != columns and frame[c].notna().any()]
        frame[index] = frame[index].astype(str)
        if not index:
            frame["cell"], index = "all", ["cell"]
        table = pd.pivot_table(
            frame, values=values, index=index, columns=columns, aggfunc="mean", dropna=False
        )
        return table

    def plot(self, ax: Any = None) -> Any:
        """Score and latency per cell (matplotlib): bars of the mean score, dots of latency."""
        from .display import plot_grid

        return plot_grid(self.cells(), ax=ax)

    def to_jsonl(self, path: str | Path) -> Path:
        path = Path(path)
        with path.open("w", encoding="utf-8") as f:
            for run in self.runs:
                f.write(json.dumps(run.record(), ensure_ascii=False, default=str) + "\n")
        return path

    def summary(self) -> str:
        errors = sum(r.error is not None for r in self.runs)
        scores = [r.score for r in self.runs if r.score is not None]
        mean = f", mean score {sum(scores) / len(scores):.3g}" if scores else ""
        cells = len({self.cell_label(r) for r in self.runs})
        return f"{len(self.runs)} runs in {cells} cells, {errors} failed{mean}"

    def __repr__(self) -> str:
        return f"<GridResult {self.summary()}>"

    def _repr_markdown_(self) -> str:
        head = "| cell | runs | score | latency (s) | tokens | errors |\n" + "|---" * 6 + "|\n"
        body = "".join(
            f"| {c['cell']} | {c['runs']} | {_fmt(c['score'])} | {_fmt(c['latency'])} "
            f"| {c['tokens']} | {c['errors']} |\n"
            for c in self.cells()
        )
        return f"**Grid**: {self.summary()}\n\n" + head + body


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"
