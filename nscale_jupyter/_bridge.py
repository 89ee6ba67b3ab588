"""Items emitted on the session loop, delivered on the caller's thread or loop.

A coroutine (a turn, say) runs on the session's private loop and emits items
through a callback. :class:`Pump` hands them to whoever waits: a plain
``for`` loop on another thread (a cell), an ``async for`` on another event
loop (the kernel's: the panel), or nobody at all (``await pump.run()``: the
whole coroutine runs on the session loop and its caller hears once, at the
end). Cancelling the consumer cancels the coroutine, which closes its
connection.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._sync import LoopThread

__all__ = ["Emit", "Pump"]

#: How a running coroutine hands an item to its consumer.
Emit = Callable[[object], None]


class _End:
    """Marks the end of the items."""


_END = _End()
#: A consumer that waited this long (seconds) is given the GIL at once.
_IDLE = 0.001


def _check(item: object) -> bool:
    """True at the end; re-raises the coroutine's error (a cancellation ends quietly)."""
    if item is _END:
        return True
    if isinstance(item, _Failure):
        if isinstance(item.error, asyncio.CancelledError):
            return True
        raise item.error
    return False


class _Failure:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


class Pump:
    """Run ``drive(emit)`` on ``loop`` and deliver what it emits.

    Iterate it (sync or async) for the items, or ``await run()`` for none.
    ``on_idle`` is called on the iterating thread when nothing arrived for
    a moment (a stall), so a display can show what it held back.
    """

    def __init__(self, loop: LoopThread, drive: Callable[[Emit], Awaitable[None]]) -> None:
        self._loop = loop
        self._drive = drive
        self._future: concurrent.futures.Future[Any] | None = None
        self._finished = threading.Event()
        self._started = False  # submitted to the loop
        self._cancelled = False  # cancel() was called (maybe before the task began)
        self._task: asyncio.Task[Any] | None = None
        self._inbox: collections.deque[object] = collections.deque()
        self.on_idle: Callable[[], None] | None = None

    async def _run(self, emit: Emit) -> None:
        try:
            self._task = asyncio.current_task()
            if self._cancelled:
                raise asyncio.CancelledError
            await self._drive(emit)
        except BaseException as exc:
            emit(_Failure(exc))
            if not isinstance(exc, Exception):
                raise
        finally:
            emit(_END)
            self._finished.set()

    def cancel(self, timeout: float = 2.0) -> None:
        """Cancel the coroutine and wait (up to ``timeout``) until it has ended.

        Safe at any moment, also when an interrupt lands while the coroutine
        is being started: the task cancels itself as soon as it begins.
        """
        self._cancelled = True
        if not self._started:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed: nothing runs
            self._loop.loop.call_soon_threadsafe(self._cancel_task)
        self._finished.wait(timeout)

    def _cancel_task(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def _submit(self, emit: Emit) -> concurrent.futures.Future[Any]:
        self._started = True
        return self._loop.submit(self._run(emit))

    def __iter__(self) -> Iterator[Any]:
        """The items on this thread, handed over in batches.

        The producer wakes this thread once per batch. When this thread had
        been waiting a while (the first event, one after a stall) it also
        gives up the GIL for a moment, so the item arrives now rather than
        after the interpreter's switch interval (5 ms); a busy stream is
        handed over in batches, without a GIL hand-off per item.
        """
        inbox = self._inbox = collections.deque()
        ready = threading.Event()
        waiting = [0.0]  # since when this thread waits (0: it does not)

        def put(item: object) -> None:
            inbox.append(item)
            since = waiting[0]
            if since:
                waiting[0] = 0.0
                ready.set()
                if time.monotonic() - since > _IDLE:
                    time.sleep(0)

        self._future = self._submit(put)
        try:
            while True:
                if not inbox:
                    ready.clear()
                    waiting[0] = time.monotonic()
                    if inbox:  # arrived meanwhile
                        waiting[0] = 0.0
                    elif not ready.wait(0.05):  # short waits keep Ctrl-C responsive
                        waiting[0] = 0.0
                        if self.on_idle is not None:
                            self.on_idle()
                        continue
                while inbox:
                    item = inbox.popleft()
                    if item is _END or type(item) is _Failure:
                        _check(item)
                        return
                    yield item
        finally:
            self.cancel()

    def rest(self) -> Iterator[Any]:
        """After an interrupt and :meth:`cancel`: what was emitted but not yet delivered."""
        while self._inbox:
            item = self._inbox.popleft()
            if item is not _END and not isinstance(item, _Failure):
                yield item

    async def __aiter__(self) -> AsyncIterator[Any]:
        """The same items on the caller's running loop, handed over in batches.

        The session loop wakes the caller's loop once per batch, not once per
        item, so many concurrent streams do not flood both loops.
        """
        loop = asyncio.get_running_loop()
        batch: collections.deque[object] = collections.deque()
        ready = asyncio.Event()
        woken = threading.Event()  # set while a wake-up is on its way

        def wake() -> None:
            woken.clear()
            ready.set()

        def put(item: object) -> None:
            batch.append(item)
            if not woken.is_set():
                woken.set()
                loop.call_soon_threadsafe(wake)

        self._future = self._submit(put)
        try:
            while True:
                await ready.wait()
                ready.clear()
                while batch:
                    item = batch.popleft()
                    if _check(item):
                        return
                    yield item
        finally:
            if not self._future.done():
                self.cancel(timeout=0)
            await loop.run_in_executor(None, self._finished.wait, 2.0)

    async def _quiet(self) -> None:
        failures: list[object] = []
        await self._run(lambda item: failures.append(item) if isinstance(item, _Failure) else None)
        for item in failures:
            _check(item)

    async def run(self) -> None:
        """Run to the end on the session loop; one hop back to the caller's loop."""
        self._started = True
        self._future = self._loop.submit(self._quiet())
        try:
            await asyncio.wrap_future(self._future)
        except asyncio.CancelledError:
            self.cancel(timeout=0)  # the caller's task was cancelled: so is the turn
            raise

    def wait(self) -> None:
        """Run to the end, blocking this thread (an interrupt cancels it and re-raises)."""
        self._started = True
        try:
            self._loop.run(self._quiet())
        except KeyboardInterrupt:
            self.cancel()
            raise
