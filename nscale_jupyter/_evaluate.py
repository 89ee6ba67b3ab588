"""``batch()``, ``abatch()`` and ``grid()``: many turns from one call, with a progress bar.

The face over ``_batch`` and ``_grid``: it plans (a bad option or a missing
template field raises before anything is sent), starts the run on the
session loop, shows progress (a widget in a notebook, a line in a terminal)
and waits, or hands back the running batch (``wait=False``) so other cells
run meanwhile. Ctrl-C stops the batch and returns the rows finished so far;
with ``checkpoint=`` they are on disk, and the same call again sends only the rest.
"""

from __future__ import annotations

import concurrent.futures
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from ._api import default_session
from ._batch import BatchRun
from ._batch_plan import plan_batch
from ._grid import GridResult, grid_result, plan_grid
from ._rows import BatchResult
from ._session import Session

__all__ = ["abatch", "batch", "grid"]

#: How often a waiting call redraws the progress (seconds): at most 4 times a second.
_TICK = 0.25


def _view(total: int, progress: bool, label: str, *, wait: bool = True) -> Any:
    """The progress bar; none for a batch left running in a terminal (it would print
    over what the user types next: ``run.progress`` tells)."""
    if not progress:
        return None
    from .display._progress import ProgressView, in_notebook

    if not wait and not in_notebook():
        return None

    return ProgressView(total, label=label)


def _start(
    session: Session | None,
    items: Any,
    prompt: str | None,
    progress: bool,
    kwargs: dict[str, Any],
    *,
    wait: bool = True,
) -> BatchRun:
    session = session or default_session()
    plan = plan_batch(session, items, prompt, **kwargs)
    view = _view(len(plan.jobs), progress, "batch", wait=wait)
    return BatchRun(session, plan, view.update if view is not None else None)


def _wait(run: BatchRun) -> BatchResult:
    """Wait, keeping the progress moving; Ctrl-C stops the run and keeps its finished rows."""
    try:
        while True:
            try:
                return run.result(timeout=_TICK)
            except concurrent.futures.TimeoutError:
                continue
    except KeyboardInterrupt:
        result = run.cancel()
        done = sum(r.ok for r in result.rows)
        kept = " (in the checkpoint: run again to send the rest)" if run.plan.checkpoint else ""
        print(f"nscale: interrupted; {done} of {len(result)} rows done{kept}", file=sys.stderr)
        return result


def batch(
    items: Sequence[Any] | Any,
    prompt: str | None = None,
    *,
    concurrency: int = 8,
    checkpoint: str | None = None,
    output: Any = None,
    progress: bool = True,
    wait: bool = True,
    retries: int | None = None,
    session: Session | None = None,
    **options: Any,
) -> Any:
    """Send ``prompt`` filled from each item, ``concurrency`` at a time; results in input order.

    ``items``: strings (``{item}`` in the template; sent as they are with no
    template), dicts or a pandas DataFrame (``{column}``). ``options`` are the
    request options of the option table (``model=``, ``temperature=``...).
    ``output=`` a JSON schema, dataclass or TypedDict asks for JSON and parses
    each answer into columns (flagged when it does not fit). ``checkpoint=PATH``
    keeps finished rows on disk: the same batch again sends only the rest.
    A 429 waits and retries (``retries``: the batch's budget); other failures
    are recorded per row (``.errors``). ``wait=False`` returns the running
    batch at once: ``.progress``, ``.result()``, ``.cancel()``, ``await run``.
    """
    run = _start(session, items, prompt, progress, {
        "concurrency": concurrency, "checkpoint": checkpoint, "output": output,
        "retries": retries, **options,
    }, wait=wait)  # fmt: skip
    return _wait(run) if wait else run


async def abatch(
    items: Sequence[Any] | Any,
    prompt: str | None = None,
    *,
    concurrency: int = 8,
    checkpoint: str | None = None,
    output: Any = None,
    progress: bool = True,
    retries: int | None = None,
    session: Session | None = None,
    **options: Any,
) -> BatchResult:
    """The awaitable :func:`batch`: ``result = await abatch(rows, "...")`` in a cell."""
    run = _start(session, items, prompt, progress, {
        "concurrency": concurrency, "checkpoint": checkpoint, "output": output,
        "retries": retries, **options,
    })  # fmt: skip
    return await run


def grid(
    prompts: Any,
    *,
    models: Sequence[str] | None = None,
    options: Mapping[str, Sequence[Any]] | None = None,
    seeds: Sequence[int] | None = None,
    score: Any = None,
    concurrency: int = 8,
    progress: bool = True,
    session: Session | None = None,
    **fixed: Any,
) -> GridResult:
    """Every prompt x model x option values x seed, ``concurrency`` at a time, scored.

    ``prompts``: strings, ``{prompt: expected}`` or dicts with ``prompt`` and
    ``expected``. ``options={"temperature": [0, 0.7]}``; ``fixed`` options
    apply to every run. ``score``: ``f(answer)`` / ``f(answer, expected)``,
    "exact", "json" or "regex:PATTERN". Returns one row per run.
    """
    session = session or default_session()
    plan = plan_grid(session, prompts, models=models, options=options, seeds=seeds,
                     score=score, concurrency=concurrency, **fixed)  # fmt: skip
    view = _view(len(plan.batch.jobs), progress, "grid")
    run = BatchRun(session, plan.batch, view.update if view is not None else None)
    return grid_result(plan, _wait(run))
