"""Dynamic micro-batching: requests for one model that arrive together are scored as one batch.

Scoring a model has a fixed cost per call (checking and encoding the columns, entering the
model's predictor) that dwarfs the cost of one more row, so 32 concurrent single-row requests
scored at once cost little more than one. A request joins the queue once it is parsed and its
values are checked (:meth:`MicroBatcher.submit`); the queue is scored:

* at the end of the event loop's current turn, when no other request for the model is still
  being received — so a lone client waits for nothing, and requests that the loop took in the
  same turn share a batch;
* else once those requests have joined, but never later than ``max_wait`` after the first
  request of the batch joined (the bound, 1 ms by default);
* at once when it holds ``max_rows`` rows.

A request alone — the last turn that had requests had only one, none has come in this turn, none
is queued or being received — is scored at once, in its own task: no future, no wait for the end
of the turn. A second request in the same turn (or once the last turn had several) queues, so a
client alone pays nothing for batching and concurrent clients share batches.

The batch is scored in the event loop's thread (batches are small: large requests take the
per-request path in a worker thread) and each request gets its own rows back. A request that
is refused never reaches the queue, so it fails alone; should scoring a whole batch fail, each
of its requests is scored by itself, so the error reaches only the request that caused it.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

#: The longest a request waits for others to join its batch.
MAX_WAIT_SECONDS = 0.001
#: The most rows one batch scores.
MAX_BATCH_ROWS = 512


class MicroBatcher(Generic[Item, Result]):
    """Queues requests and scores them in batches with ``score(items) -> results`` (one result
    per item, in order).

    Args:
        score: scores a batch of items.
        max_wait: the longest, in seconds, a request waits for others to join its batch (0: none).
        max_rows: the most rows in one batch.
    """

    def __init__(self, score: Callable[[list[Item]], list[Result]], *, max_wait: float = MAX_WAIT_SECONDS, max_rows: int = MAX_BATCH_ROWS):
        self.score = score
        self.max_wait = max_wait
        self.max_rows = max_rows
        self.batches = 0  # scoring calls made, one per batch
        self._queue: collections.deque[tuple[Item, int, asyncio.Future]] = collections.deque()
        self._rows = 0
        self._receiving = 0
        self._timer: asyncio.Handle | None = None
        self._timed = False  # the flush is waiting (call_later), not due at the end of this turn
        self._turn = 0  # requests submitted in the event loop's current turn
        self._last_turn = 2  # requests submitted in the last turn that had any (at first unknown: queue)

    def receiving(self) -> MicroBatcher:
        """Around reading and checking a request (``with batcher.receiving():``): while any is
        being received, a queued batch waits for it (at most ``max_wait``). The batcher is its own
        context manager, which costs a request less than a generator-based one."""
        return self

    def __enter__(self) -> None:
        self._receiving += 1

    def __exit__(self, *error) -> None:
        self._receiving -= 1
        if not self._receiving and self._queue:
            self._schedule(now=True)

    async def submit(self, item: Item, rows: int) -> Result:
        """Queue ``item`` (``rows`` rows) and return its result once its batch is scored.

        Raises:
            Exception: whatever scoring the item raised.
        """
        alone = not self._turn and self._last_turn <= 1 and not self._queue and not self._receiving
        if not self._turn:
            asyncio.get_running_loop().call_soon(self._end_turn)
        self._turn += 1
        if alone:
            self.batches += 1
            return self.score([item])[0]
        future = asyncio.get_running_loop().create_future()
        self._queue.append((item, rows, future))
        self._rows += rows
        if self._rows >= self.max_rows:
            self._schedule(now=True)
        elif self._timer is None:
            self._schedule(now=not self._receiving or self.max_wait <= 0)
        return await future

    def _end_turn(self) -> None:
        """Called once the tasks that were ready when this turn's first request came have run."""
        self._last_turn, self._turn = self._turn, 0

    def _schedule(self, now: bool) -> None:
        if self._timer is not None:
            if not now or not self._timed:
                return  # already due (at the end of this turn), or a wait is already bounded
            self._timer.cancel()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_soon(self._flush) if now else loop.call_later(self.max_wait, self._flush)
        self._timed = not now

    def _flush(self) -> None:
        self._timer = None
        taken: list[tuple[Item, int, asyncio.Future]] = []
        rows = 0
        while self._queue and (not taken or rows + self._queue[0][1] <= self.max_rows):
            entry = self._queue.popleft()
            taken.append(entry)
            rows += entry[1]
        self._rows -= rows
        if self._queue:
            self._schedule(now=True)
        self._answer([entry for entry in taken if not entry[2].done()])  # a cancelled request (client gone) is not scored

    def _answer(self, taken: list[tuple[Item, int, asyncio.Future]]) -> None:
        if not taken:
            return
        try:
            self.batches += 1
            results = self.score([item for item, _, _ in taken])
        except Exception as error:
            if len(taken) == 1:
                taken[0][2].set_exception(error)
                return
            for entry in taken:  # find the request that fails; the others are answered
                self._answer([entry])
            return
        for (_, _, future), result in zip(taken, results):
            future.set_result(result)
