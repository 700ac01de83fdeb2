"""The per-account order-call limiter: never more than N starts in any window, FIFO, no spinning."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.accounts.limiter import SlidingWindowLimiter


class RecordingClock:
    """`time.monotonic`, remembering its last reading and how often it was read.

    The limiter reads the clock last when it records a start and returns without yielding, so
    `last` read right after `acquire()` is exactly the start time the limiter counted."""

    def __init__(self) -> None:
        self.last = 0.0
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        self.last = time.monotonic()
        return self.last


def max_in_window(starts: list[float], period: float) -> int:
    """The most starts inside any half-open window [t, t + period)."""
    ordered = sorted(starts)
    return max(sum(1 for s in ordered[i:] if s < t + period) for i, t in enumerate(ordered))


async def test_25_concurrent_acquires_respect_window_and_order() -> None:
    clock = RecordingClock()
    limiter = SlidingWindowLimiter(max_calls=10, period=0.2, clock=clock)
    started: list[tuple[int, float]] = []

    async def call(i: int) -> None:
        await limiter.acquire()
        started.append((i, clock.last))

    await asyncio.gather(*(call(i) for i in range(25)))

    order = [i for i, _ in started]
    times = [t for _, t in started]
    assert order == list(range(25))  # FIFO: callers start in arrival order
    assert max_in_window(times, 0.2) == 10
    assert all(times[k + 10] - times[k] >= 0.2 for k in range(15))
    assert times[9] - times[0] < 0.05  # the first ten do not wait
    assert times[-1] - times[0] < 0.55  # 25 calls need two waits of 0.2 s, not more
    assert clock.reads <= 25 * 3  # sleeps until its slot instead of polling


async def test_async_with_form() -> None:
    clock = RecordingClock()
    limiter = SlidingWindowLimiter(max_calls=3, period=0.1, clock=clock)
    times: list[float] = []

    async def call() -> None:
        async with limiter:
            times.append(clock.last)

    await asyncio.gather(*(call() for _ in range(9)))
    assert len(times) == 9
    assert max_in_window(times, 0.1) == 3
    assert times[-1] - times[0] >= 0.2


async def test_cancelled_waiter_gives_up_its_place() -> None:
    clock = RecordingClock()
    limiter = SlidingWindowLimiter(max_calls=1, period=0.2, clock=clock)
    await limiter.acquire()
    first = clock.last
    starts: dict[str, float] = {}

    async def call(name: str) -> None:
        await limiter.acquire()
        starts[name] = clock.last

    second = asyncio.create_task(call("second"))
    third = asyncio.create_task(call("third"))
    await asyncio.sleep(0.05)
    second.cancel()
    await asyncio.gather(second, third, return_exceptions=True)
    assert second.cancelled()
    assert list(starts) == ["third"]
    assert 0.2 <= starts["third"] - first < 0.35


async def test_spaced_calls_do_not_wait() -> None:
    limiter = SlidingWindowLimiter(max_calls=2, period=0.05)
    for _ in range(3):
        await limiter.acquire()
        await limiter.acquire()
        await asyncio.sleep(0.06)
    begin = time.monotonic()
    await limiter.acquire()
    assert time.monotonic() - begin < 0.02


@pytest.mark.parametrize("max_calls", [0, -1, 11, 50])
def test_max_calls_validated(max_calls: int) -> None:
    with pytest.raises(ValueError, match="max_calls"):
        SlidingWindowLimiter(max_calls=max_calls)


async def test_above_ten_needs_the_registered_flag() -> None:
    with pytest.raises(ValueError, match="allow_above_ten"):
        SlidingWindowLimiter(max_calls=11)
    with pytest.raises(ValueError, match="at least 1"):
        SlidingWindowLimiter(max_calls=0, allow_above_ten=True)
    registered = SlidingWindowLimiter(max_calls=20, allow_above_ten=True)
    begin = time.monotonic()
    for _ in range(20):
        await registered.acquire()
    assert time.monotonic() - begin < 0.1  # twenty in one window, none waited for a second


@pytest.mark.parametrize("period", [0.0, -1.0])
def test_period_validated(period: float) -> None:
    with pytest.raises(ValueError, match="period"):
        SlidingWindowLimiter(period=period)
