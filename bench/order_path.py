"""How long the core takes between a confirmed intent and the broker request.

Builds the real core (SQLite store in a temp folder, paper broker, account, order desk) and, for
each of N orders, times from the call to `OrderDesk.execute` (right after the tap was claimed)
to the moment the paper broker's `place_order` is entered. That span is what the bot adds: the
intent read, the order row written before sending, the account and the rate limiter. The
limiter is set far above 10/s here so it never has to wait; pacing is measured by
bench/rate_limiter.py.

    python bench/order_path.py [--orders 500]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.accounts import Account, SlidingWindowLimiter
from bot.market.instruments import InstrumentIndex
from bot.orders.desk import OrderDesk
from bot.orders.policy import OrderTicket
from bot.store.connection import Store
from brokers.models import OrderRequest, OrderType, Side
from brokers.paper import PaperBroker


class TimedPaper(PaperBroker):
    """The paper broker, noting when each place request arrives."""

    arrived: float = 0.0

    async def place_order(self, request: OrderRequest) -> str:
        self.arrived = time.perf_counter()
        return await super().place_order(request)


async def main(orders: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        broker = TimedPaper(folder / "paper.json", capital=Decimal(10**12), tick_seconds=0)
        store = await Store.open(folder / "bench.db")
        limiter = SlidingWindowLimiter(max_calls=1_000_000, period=1.0, allow_above_ten=True)
        account = Account(broker, limiter)
        await account.start()
        index = await InstrumentIndex.build(await account.instruments())
        desk = OrderDesk(store, account, index, confirm_ttl=timedelta(seconds=60))
        ticket = OrderTicket(Side.BUY, "NSE:SBIN", 1, OrderType.LIMIT, price=Decimal("700"))
        spans: list[float] = []
        for _ in range(orders):
            prepared = await desk.prepare_order(1, 1, ticket)
            claimed = await desk.claim(prepared.intent_id, 1)
            start = time.perf_counter()
            await desk.execute(claimed)
            spans.append((broker.arrived - start) * 1000)
        await account.stop()
        await store.close()
    spans.sort()
    p99 = spans[min(len(spans) - 1, int(len(spans) * 0.99))]
    print(f"orders: {orders}")
    median = statistics.median(spans)
    print(
        "core time from confirmed intent to broker request: "
        f"median {median:.3f} ms, p99 {p99:.3f} ms, max {spans[-1]:.3f} ms"
    )
    print(f"target p99 < 5 ms: {'met' if p99 < 5 else 'NOT met'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=500)
    asyncio.run(main(parser.parse_args().orders))
