"""The order-call budget: at most 10 order calls start in any one-second window, per account.

NSE counts 10 orders per second per client, on the broker's clock, and rejects the excess unless
the algo is registered (NSE/INVG/67858, 2025-05-05); Kotak's APIs are limited to 10 per second. No
source says whether modify and cancel count, so one limiter per broker account covers place, modify
and cancel (and every freeze slice) together: stricter than needed, on purpose (rules.md §1.2,
§6.4).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from types import TracebackType


class SlidingWindowLimiter:
    """Never more than `max_calls` acquisitions start inside any window of `period` seconds.

    A sliding window rather than a token bucket: a bucket refilled continuously can let 11 calls
    fall inside some one-second window, which is exactly what the exchange counts. We keep the start
    times of the last `max_calls` calls; the next may start at the oldest of them + `period`.

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
        self._max_calls = max_calls
        self._period = period
        self._clock = clock
        self._starts: deque[float] = deque(maxlen=max_calls)
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait for this caller's turn and a free slot, then record the start."""
        async with self._lock:
            now = self._clock()
            if len(self._starts) == self._max_calls:
                ready_at = self._starts[0] + self._period
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
