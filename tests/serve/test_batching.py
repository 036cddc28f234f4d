"""The micro-batcher on its own: merging, splitting back, the bounded wait, and failures kept apart."""

from __future__ import annotations

import asyncio
import time

import pytest

from sqlml.errors import InvalidModelInputError
from sqlml.serve.batching import MicroBatcher


def doubled(calls: list[list[int]]):
    """A scorer that records each batch it is given and answers every item twice its value."""

    def score(items: list[int]) -> list[int]:
        calls.append(list(items))
        if any(item < 0 for item in items):
            raise InvalidModelInputError(f"Item {min(items)} is negative.")
        return [item * 2 for item in items]

    return score


def test_concurrent_requests_are_scored_once_and_each_gets_its_own_result():
    calls: list[list[int]] = []

    async def run():
        batcher = MicroBatcher(doubled(calls), max_wait=0.001)
        results = await asyncio.gather(*(batcher.submit(i, 1) for i in range(20)))
        return batcher, results

    batcher, results = asyncio.run(run())
    assert results == [i * 2 for i in range(20)]
    assert calls == [list(range(20))] and batcher.batches == 1


def test_a_failing_request_fails_alone():
    calls: list[list[int]] = []

    async def run():
        batcher = MicroBatcher(doubled(calls))
        return await asyncio.gather(*(batcher.submit(i, 1) for i in (1, -5, 3)), return_exceptions=True)

    first, failed, third = asyncio.run(run())
    assert (first, third) == (2, 6)
    assert isinstance(failed, InvalidModelInputError) and failed.message == "Item -5 is negative."
    assert calls == [[1, -5, 3], [1], [-5], [3]]  # the batch failed, so each was scored alone


def test_a_batch_holds_at_most_max_rows():
    calls: list[list[int]] = []

    async def run():
        batcher = MicroBatcher(doubled(calls), max_rows=5)
        return await asyncio.gather(*(batcher.submit(i, 2) for i in range(6)))

    assert asyncio.run(run()) == [0, 2, 4, 6, 8, 10]
    assert calls == [[0, 1], [2, 3], [4, 5]]  # two requests of 2 rows fit in 5, three do not


async def _answered_after(batcher: MicroBatcher, receiving_for: float) -> float:
    """Seconds until a request is answered while another request takes ``receiving_for`` seconds to arrive."""

    async def slow_request():
        with batcher.receiving():
            await asyncio.sleep(receiving_for)

    other = asyncio.create_task(slow_request())
    await asyncio.sleep(0)  # the slow request has started to arrive
    started = time.perf_counter()
    await batcher.submit(1, 1)
    elapsed = time.perf_counter() - started
    await other
    return elapsed


@pytest.mark.parametrize("max_wait", [0.05, 0.2])
def test_a_request_waits_for_one_still_arriving_at_most_max_wait(max_wait):
    batcher = MicroBatcher(doubled([]), max_wait=max_wait)
    elapsed = asyncio.run(_answered_after(batcher, receiving_for=1.0))
    assert max_wait * 0.9 <= elapsed < max_wait + 0.15


def test_a_request_waits_only_until_the_one_arriving_has_arrived():
    batcher = MicroBatcher(doubled([]), max_wait=5.0)
    assert asyncio.run(_answered_after(batcher, receiving_for=0.02)) < 1.0


def test_a_lone_request_and_a_zero_wait_do_not_wait():
    async def lone(batcher):
        started = time.perf_counter()
        await batcher.submit(1, 1)
        return time.perf_counter() - started

    assert asyncio.run(lone(MicroBatcher(doubled([]), max_wait=5.0))) < 0.05  # nobody else is arriving
    assert asyncio.run(_answered_after(MicroBatcher(doubled([]), max_wait=0), receiving_for=1.0)) < 0.05


def test_requests_that_arrive_within_the_wait_share_the_batch():
    calls: list[list[int]] = []

    async def run():
        batcher = MicroBatcher(doubled(calls), max_wait=1.0)

        async def late(value: int, after: float) -> int:
            with batcher.receiving():
                await asyncio.sleep(after)
            return await batcher.submit(value, 1)

        return await asyncio.gather(late(1, 0.01), late(2, 0.03), late(3, 0.0))

    assert asyncio.run(run()) == [2, 4, 6]
    assert calls == [[3, 1, 2]]


def test_a_request_alone_is_scored_at_once_and_a_burst_after_it_shares_a_batch():
    calls: list[list[int]] = []

    async def run():
        batcher = MicroBatcher(doubled(calls), max_wait=1.0)
        first = await batcher.submit(0, 1)  # a new batcher has seen no turn yet: the request queues
        await asyncio.sleep(0)
        pending = batcher.submit(1, 1)
        with pytest.raises(StopIteration) as answered:  # alone after a lone turn: answered without suspending (no future)
            pending.send(None)
        await asyncio.sleep(0)
        burst = await asyncio.gather(*(batcher.submit(i, 1) for i in range(2, 7)))  # the first of it is alone again
        await asyncio.sleep(0)
        after = await asyncio.gather(*(batcher.submit(i, 1) for i in range(7, 10)))  # the last turn had several: all queue
        return [first, answered.value.value, *burst, *after], batcher.batches

    results, batches = asyncio.run(run())
    assert results == [i * 2 for i in range(10)]
    assert calls == [[0], [1], [2], [3, 4, 5, 6], [7, 8, 9]] and batches == 5
