"""Batch: one prompt template over many items, as turns of the turn engine (session layer).

Each row is a one-off ``Turn`` (no thread, nothing recorded, no tools) driven
on the session loop by a fixed pool of ``concurrency`` workers, so ten
thousand rows never mean ten thousand tasks. A row that meets a 429 waits
(Retry-After, else backoff) and goes again while the batch's retry budget
lasts; any other failure is recorded on its row. Finished rows go to the
checkpoint as they finish, so an interrupt keeps them and a rerun sends only
the rest. No IPython, no display: progress goes to a callback. The plan
(rows filled, options checked, nothing sent) is ``_batch_plan``'s.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ._batch_plan import BatchPlan, Job, plan_batch
from ._exceptions import RateLimitError
from ._retry import RetryNotice, backoff_delay
from ._rows import NOT_RUN, BatchResult, Checkpoint, Progress, Row
from ._structured import OutputSpec
from ._turn import Turn, TurnSpec
from ._turn_events import TurnOutcome
from ._types import Message

if TYPE_CHECKING:
    from ._session import Session

__all__ = ["BatchRun", "run_jobs", "start_batch"]


class _Budget:
    """The batch's retries: shared by its rows, counted for the progress display."""

    def __init__(self, limit: int) -> None:
        self.left = limit
        self.pause_until = 0.0  # a server's Retry-After holds every worker

    def take(self) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        return True


async def run_jobs(
    session: Session,
    jobs: Iterable[Job],
    spec: TurnSpec,
    *,
    concurrency: int,
    budget: _Budget,
    on_row: Callable[[Job, Row], None],
    on_retry: Callable[[], None] = lambda: None,
    output: OutputSpec | None = None,
) -> None:
    """Run ``jobs`` as turns, ``concurrency`` at a time, reporting each finished row."""
    queue: Iterator[Job] = iter(jobs)

    def notice(event: object) -> None:
        if isinstance(event, RetryNotice):  # the client's own retries (429, 502-504)
            on_retry()

    async def worker() -> None:
        for job in queue:  # shared: each job goes to one worker
            attempt = 0
            while True:
                wait = budget.pause_until - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                options = spec.options if job.options is None else job.options
                turn = Turn(session, replace(spec, prompt=(Message.user(job.prompt),),
                                             options=options))  # fmt: skip
                started = time.perf_counter()
                try:
                    await turn.drive(notice)
                except Exception as exc:  # not the turn's own errors: still only this row's
                    turn.outcome = TurnOutcome(None, None, error=None, cut_off=repr(exc))
                outcome = turn.outcome
                assert outcome is not None
                error = outcome.error
                if (
                    isinstance(error, RateLimitError)
                    and not error.insufficient_credit
                    and budget.take()
                ):
                    asked = error.retry_after
                    delay = asked if asked else backoff_delay(min(attempt, 4))
                    if asked:
                        budget.pause_until = max(budget.pause_until, time.monotonic() + asked)
                    attempt += 1
                    on_retry()
                    await asyncio.sleep(delay)
                    continue
                break
            on_row(job, _row(job.index, outcome, time.perf_counter() - started, attempt, output))

    workers = [asyncio.ensure_future(worker()) for _ in range(max(1, concurrency))]
    try:
        await asyncio.gather(*workers)
    finally:
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)


def _row(
    index: int, outcome: TurnOutcome, latency: float, retries: int, output: OutputSpec | None
) -> Row:
    result = outcome.result
    if outcome.error is not None or result is None:
        error = str(outcome.error) if outcome.error is not None else outcome.cut_off
        error = error or "no reply"
        return Row(index, error=error, latency=latency, retries=retries)
    usage = result.usage
    fields = problem = None
    if output is not None:
        fields, problem = output.parse(result.text)
    return Row(
        index,
        answer=result.text,
        fields=fields,
        problem=problem,
        prompt_tokens=(usage.prompt_tokens or 0) if usage else 0,
        completion_tokens=(usage.completion_tokens or 0) if usage else 0,
        latency=latency,
        finish_reason=result.finish_reason,
        retries=retries,
    )


class BatchRun:
    """A batch going on the session loop: ``result()``, ``await run``, ``cancel()``, ``progress``.

    The calling thread stays free (another cell can run); ``on_progress`` is
    called on the session loop after every row.
    """

    def __init__(
        self,
        session: Session,
        plan: BatchPlan,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> None:
        self.plan = plan
        self._session = session
        self._on_progress = on_progress
        self._rows: list[Row | None] = [None] * len(plan.jobs)
        self._counts = {"done": 0, "failed": 0, "retried": 0, "tokens": 0, "resumed": 0}
        self._started = time.monotonic()
        self._ended: float | None = None
        self._finished = threading.Event()
        self._began = False
        self._future: concurrent.futures.Future[BatchResult] = session.loop.submit(self._main())

    # -- the caller's side ----------------------------------------------------------
    @property
    def progress(self) -> Progress:
        c = self._counts
        end = self._ended if self._ended is not None else time.monotonic()
        return Progress(
            len(self._rows), c["done"], c["failed"], c["retried"], c["tokens"], c["resumed"],
            end - self._started, finished=self._ended is not None,
        )  # fmt: skip

    def done(self) -> bool:
        return self._future.done()

    def result(self, timeout: float | None = None) -> BatchResult:
        """Wait for the whole batch (an interrupt cancels it and re-raises)."""
        try:
            return self._future.result(timeout)
        except concurrent.futures.CancelledError:
            return self.snapshot(interrupted=True)
        except KeyboardInterrupt:
            self.cancel()
            raise

    def cancel(self, timeout: float = 5.0) -> BatchResult:
        """Stop the batch (its requests are cancelled); the finished rows are kept."""
        self._future.cancel()
        if self._began:
            self._finished.wait(timeout)
        return self.snapshot(interrupted=not self._all_done())

    def __await__(self) -> Generator[Any, None, BatchResult]:
        return self._wait().__await__()

    async def _wait(self) -> BatchResult:
        try:
            return await asyncio.wrap_future(self._future)
        except asyncio.CancelledError:
            if self._future.cancelled():
                return self.snapshot(interrupted=True)
            self.cancel(timeout=0)  # the awaiting task was cancelled: so is the batch
            raise

    def snapshot(self, *, interrupted: bool = False) -> BatchResult:
        """The rows so far; rows not finished carry the error ``NOT_RUN``."""
        rows = tuple(r if r is not None else Row(i, error=NOT_RUN) for i, r in
                     enumerate(self._rows))  # fmt: skip
        plan = self.plan
        return BatchResult(
            rows,
            columns=plan.output.columns if plan.output is not None else None,
            interrupted=interrupted,
            retries=self._counts["retried"],
            elapsed=self.progress.elapsed,
            source=plan.source,
        )

    def __repr__(self) -> str:
        state = "finished" if self.done() else "running"
        return f"<BatchRun {state}: {self.progress.line()}>"

    # -- on the session loop --------------------------------------------------------------
    def _all_done(self) -> bool:
        return all(r is not None for r in self._rows)

    def _report(self) -> None:
        if self._on_progress is not None:
            self._on_progress(self.progress)

    def _keep(self, row: Row) -> None:
        self._rows[row.index] = row
        c = self._counts
        c["failed" if row.error is not None else "done"] += 1
        c["tokens"] += row.prompt_tokens + row.completion_tokens
        c["resumed"] += row.resumed

    def _retried(self) -> None:
        self._counts["retried"] += 1

    async def _main(self) -> BatchResult:
        plan, session = self.plan, self._session
        checkpoint = Checkpoint(plan.checkpoint) if plan.checkpoint else None
        self._began = True
        try:
            await session.aload_models()
            if checkpoint is not None:
                for row in checkpoint.load([j.key for j in plan.jobs]).values():
                    self._keep(row)
            self._report()
            todo = [j for j in plan.jobs if self._rows[j.index] is None]
            limit = plan.retries if plan.retries is not None else 4 * len(todo) + 20

            def on_row(job: Job, row: Row) -> None:
                self._keep(row)
                if checkpoint is not None and row.error is None:
                    checkpoint.append(row, job.key)
                self._report()

            await run_jobs(
                session, todo, plan.spec, concurrency=plan.concurrency, budget=_Budget(limit),
                on_row=on_row, on_retry=self._retried, output=plan.output,
            )  # fmt: skip
        finally:
            if checkpoint is not None:
                checkpoint.close()
            self._ended = time.monotonic()
            self._finished.set()
            self._report()
        return self.snapshot()


def start_batch(
    session: Session,
    items: Sequence[Any] | Any,
    prompt: str | None = None,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    **kwargs: Any,
) -> BatchRun:
    """Plan a batch (checked now) and start it on the session loop."""
    return BatchRun(session, plan_batch(session, items, prompt, **kwargs), on_progress)
