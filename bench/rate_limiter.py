"""Measure the order-rate budget where it counts: at the broker, from request arrival times.

N orders are submitted at once through the real account (limiter, call policy) and the real Kotak
adapter (which takes its slot right before each write) to the Kotak simulator on loopback. The
simulator runs on its own event loop in its own thread and stamps each place request when its
headers arrive, so the client's loop cannot flatter the count. Printed per run: the most arrivals
in any sliding one-second window (the exchange's count: must be at most 10) and the sustained
rate, N / (first-to-last arrival + 1 s), on which a perfect 10-per-second limiter scores 10.0
(the safety margin keeps it below: about 10 / (1 + margin) for long runs).

    python bench/rate_limiter.py                  # 60 and 600 orders (about 75 s)
    python bench/rate_limiter.py --orders 100 --margin-ms 50
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
from collections.abc import Coroutine
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pyotp

from bot.accounts import Account, SlidingWindowLimiter, TotpSource
from bot.settings import Settings
from brokers.kotak import KotakBroker
from brokers.models import OrderRequest, OrderType, Product, Side
from tests.fakes.kotak_sim import KotakSimulator, kotak_config

MAX_PER_SECOND = 10
DEFAULT_MARGIN_MS = int(Settings.model_fields["order_rate_margin_ms"].default)
T = TypeVar("T")


class SimulatorThread:
    """A `KotakSimulator` served from its own event loop in a daemon thread."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.sim: KotakSimulator | None = None

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def __enter__(self) -> KotakSimulator:
        self._thread.start()

        async def make() -> KotakSimulator:
            sim = KotakSimulator(expected_totp=lambda code: True, stock_count=20)
            await sim.start()
            return sim

        self.sim = self._run(make())
        return self.sim

    def __exit__(self, *exc: object) -> None:
        assert self.sim is not None
        self._run(self.sim.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


def largest_window(times: list[float], period: float = 1.0) -> int:
    """The most arrivals inside any half-open window [t, t + period) (two pointers over sorted)."""
    ordered = sorted(times)
    best = left = 0
    for right, t in enumerate(ordered):
        while ordered[left] <= t - period:
            left += 1
        best = max(best, right - left + 1)
    return best


async def place_all(sim: KotakSimulator, orders: int, margin: float, folder: Path) -> None:
    account = Account(
        KotakBroker(kotak_config(sim, folder)),
        SlidingWindowLimiter(MAX_PER_SECOND, 1.0, margin=margin),
        totp=TotpSource(pyotp.random_base32()),
        check_every=3600,
        warn_without_whitelist=False,
    )
    await account.start()
    try:
        sbin = await account.broker.resolve("NSE:SBIN")  # type: ignore[attr-defined]
        requests = [
            OrderRequest(
                sbin, Side.BUY, 1, OrderType.LIMIT, Decimal("800"), Product.CNC, f"B{n:05d}"
            )
            for n in range(orders)
        ]
        await asyncio.gather(*(account.place(r) for r in requests))
    finally:
        await account.stop()


def run(orders: int, margin_ms: int) -> bool:
    with SimulatorThread() as sim, tempfile.TemporaryDirectory() as tmp:
        asyncio.run(place_all(sim, orders, margin_ms / 1000, Path(tmp)))
        arrivals = [call.at for call in sim.calls_of("place")]
    assert len(arrivals) == orders, f"{len(arrivals)} of {orders} place requests arrived"
    span = max(arrivals) - min(arrivals)
    window = largest_window(arrivals)
    rate = orders / (span + 1.0)
    ideal = MAX_PER_SECOND / (1 + margin_ms / 1000)
    print(f"orders: {orders}, margin {margin_ms} ms")
    print(f"  most arrivals in any sliding 1 s: {window} (must be <= {MAX_PER_SECOND})")
    print(f"  first to last arrival:            {span:.3f} s")
    print(f"  sustained rate:                   {rate:.3f} orders/s (long-run bound {ideal:.2f})")
    return window <= MAX_PER_SECOND


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, nargs="+", default=[60, 600])
    parser.add_argument("--margin-ms", type=int, default=DEFAULT_MARGIN_MS)
    args = parser.parse_args()
    if min(args.orders) <= MAX_PER_SECOND:
        parser.error(f"--orders must be above {MAX_PER_SECOND} to measure a rate")
    ok = [run(n, args.margin_ms) for n in args.orders]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
