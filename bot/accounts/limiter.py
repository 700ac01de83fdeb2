"""The order-call budget: at most 10 order calls reach the broker in any one-second window, per
account.

NSE counts 10 orders per second per client, on the broker's clock, and rejects the excess unless
the algo is registered (NSE/INVG/67858, 2025-05-05); Kotak's APIs are limited to 10 per second. No
source says whether modify and cancel count, so one budget per broker account covers place, modify
and cancel (and every freeze slice) together: stricter than needed, on purpose (rules.md §1.2,
§6.4).

The count that matters is taken where the requests arrive, not where we decide to send them: a
connect, a busy event loop or network jitter between the two could squeeze 11 arrivals into one
second (seen at the simulator: 60 orders put 11 into one second in every run). So the window is
the legal second plus a safety `margin` (ORDER_RATE_MARGIN_MS), and an adapter that can wait at
the moment of the write takes its slot there (`brokers.base.PacesOrderWrites`, from `twin()`).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from types import TracebackType


class SlidingWindowLimiter:
    """Never more than `max_calls` acquisitions start inside any window of `period + margin`
    seconds.

    A sliding window rather than a token bucket: a bucket refilled continuously can let 11 calls
    fall inside some one-second window, which is exactly what the exchange counts. We keep the start
    times of the last `max_calls` calls; the next may start at the oldest of them + the window.

    Callers start in arrival order: one `asyncio.Lock` (FIFO in CPython: a newcomer never overtakes
    a waiter) is held while a caller sleeps until its slot, so nothing spins. A caller cancelled
    while waiting gives up its place without using a slot.
    """

    def __init__(
        self,
        max_calls: int = 10,
        period: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        *,
        margin: float = 0.0,
        allow_above_ten: bool = False,
    ) -> None:
        if max_calls < 1:
            raise ValueError(f"max_calls must be at least 1, got {max_calls}")
        if max_calls > 10 and not allow_above_ten:
            raise ValueError(
                f"max_calls {max_calls} is above the 10 orders per second allowed for an "
                "unregistered algo; pass allow_above_ten=True only for a registered one"
            )
        if period <= 0:
            raise ValueError(f"period must be positive, got {period}")
        if margin < 0:
            raise ValueError(f"margin must not be negative, got {margin}")
        self._max_calls = max_calls
        self._period = period
        self._margin = margin
        self._allow_above_ten = allow_above_ten
        self._window = period + margin
        self._clock = clock
        self._starts: deque[float] = deque(maxlen=max_calls)
        self._lock = asyncio.Lock()

    def twin(self) -> SlidingWindowLimiter:
        """A limiter with the same budget and clock and its own count: the account admits order
        calls through this one and the adapter paces the writes through the twin, so one order
        takes one slot in each and neither stage can exceed the budget."""
        return SlidingWindowLimiter(
            self._max_calls,
            self._period,
            self._clock,
            margin=self._margin,
            allow_above_ten=self._allow_above_ten,
        )

    async def acquire(self) -> None:
        """Wait for this caller's turn and a free slot, then record the start."""
        async with self._lock:
            now = self._clock()
            if len(self._starts) == self._max_calls:
                ready_at = self._starts[0] + self._window
                # A loop, not one sleep: the event loop may wake a timer up to its clock
                # resolution early, and starting early would break the guarantee.
                while now < ready_at:
                    await asyncio.sleep(ready_at - now)
                    now = self._clock()
            self._starts.append(now)

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None
