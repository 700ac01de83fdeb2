"""Measure the order-call limiter: N calls submitted at once, at most 10 may start per second.

The call behind the limiter is a trivial coroutine, not a broker: this measures the limiter's
pacing, which is what the exchange's 10-orders-per-second count sees (rules.md §1.2). Start times
are taken inside the call, independently of the limiter's own bookkeeping.

    python bench/rate_limiter.py             # 600 calls, about 60 s
    python bench/rate_limiter.py --calls 100
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.accounts.limiter import SlidingWindowLimiter

MAX_CALLS = 10
PERIOD = 1.0


async def submit_all(calls: int) -> list[float]:
    limiter = SlidingWindowLimiter(MAX_CALLS, PERIOD)
    starts: list[float] = []

    async def order_call() -> None:
        starts.append(time.monotonic())
        await asyncio.sleep(0)

    async def submit() -> None:
        async with limiter:
            await order_call()

    await asyncio.gather(*(submit() for _ in range(calls)))
    return starts


def largest_window(starts: list[float], period: float) -> int:
    """The most starts inside any half-open window [t, t + period) (two pointers over sorted)."""
    ordered = sorted(starts)
    best = left = 0
    for right, t in enumerate(ordered):
        while ordered[left] <= t - period:
            left += 1
        best = max(best, right - left + 1)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=600, help="order calls to submit (600)")
    calls = parser.parse_args().calls
    if calls <= MAX_CALLS:
        parser.error(f"--calls must be above {MAX_CALLS} to measure a rate")

    starts = asyncio.run(submit_all(calls))
    span = max(starts) - min(starts)
    # N calls use N / 10 one-second windows: the run lasts from the first start until the window
    # of the last start closes, so a perfect limiter scores exactly 10.0 here.
    rate = calls / (span + PERIOD)
    window = largest_window(starts, PERIOD)
    print(f"calls submitted at once:        {calls} (trivial coroutine, no broker)")
    print(f"first to last start:            {span:.3f} s")
    print(f"achieved rate:                  {rate:.3f} calls/s (target 10.0 ± 0.1)")
    print(f"largest count in any 1 s window: {window} (must be ≤ {MAX_CALLS})")
    return 0 if window <= MAX_CALLS and abs(rate - MAX_CALLS) <= 0.1 else 1


if __name__ == "__main__":
    sys.exit(main())
