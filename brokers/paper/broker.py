"""`PaperBroker`: the built-in default broker, so the bot runs with nothing but a Telegram token.

It implements the same `Broker` protocol, models and errors as the real adapters; nothing above it
can tell it is simulated. The state file is read once, synchronously, in the constructor (before
the broker trades, so blocking the loop for one small read is harmless); every later write goes
through `asyncio.to_thread`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from brokers.models import (
    Funds,
    Holding,
    Instrument,
    MarginCheck,
    ModifyRequest,
    Order,
    OrderRequest,
    Position,
    Quote,
    SessionInfo,
    Trade,
)
from brokers.paper.book import Book
from brokers.paper.instruments import build_instruments, ist_today
from brokers.paper.ledger import Ledger
from brokers.paper.market import Market
from brokers.paper.state import Snapshot, StateFile, load_snapshot


class PaperBroker:
    """A simulated NSE account with a moving market.

    `tick_seconds` is how often prices move once `login()` has started the market; `<= 0` turns
    the automatic movement off (tests and benches then move prices with `step()` and
    `set_price()`, which are paper-only controls). `seed` makes the random walk repeatable;
    `today` (default: today in India) fixes the expiries of the built-in F&O.
    """

    name = "paper"

    def __init__(
        self,
        state_path: Path,
        capital: Decimal = Decimal(1_000_000),
        tick_seconds: float = 1.0,
        seed: int | None = None,
        today: date | None = None,
    ) -> None:
        self._today = today or ist_today()
        self._tick_seconds = tick_seconds
        self._instruments = build_instruments(self._today)
        saved = load_snapshot(state_path)
        prices = saved.prices if saved else {}
        # A new trading day closes yesterday at its last price.
        closes = (saved.closes if saved.day == self._today else saved.prices) if saved else {}
        self._market = Market(self._instruments, self._today, random.Random(seed), closes, prices)
        self._book = Book(saved.ledger if saved else Ledger(cash=capital), self._market)
        self._state = StateFile(state_path)
        self._ticker: asyncio.Task[None] | None = None
        self._saves: set[asyncio.Task[None]] = set()

    async def login(self, otp: str | None = None) -> SessionInfo:
        """Start the market (idempotent). Paper has no credentials: `otp` is ignored."""
        if self._tick_seconds > 0 and (self._ticker is None or self._ticker.done()):
            self._ticker = asyncio.create_task(self._run_market(), name="paper-market")
        return SessionInfo(account="PAPER", created_at=datetime.now(UTC))

    async def close(self) -> None:
        """Stop the market and write the final state."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        await asyncio.gather(*self._saves)
        await self._save()

    async def instruments(self) -> Sequence[Instrument]:
        return self._instruments

    async def quotes(self, instruments: Sequence[Instrument]) -> dict[str, Quote]:
        return {
            instrument.key: self._market.quote(instrument.key)
            for instrument in instruments
            if self._market.instrument(instrument.key) is not None
        }

    async def place_order(self, request: OrderRequest) -> str:
        order_id = self._book.place(request)
        await self._save()
        return order_id

    async def modify_order(self, request: ModifyRequest) -> str:
        self._book.modify(request)
        await self._save()
        return request.order_id

    async def cancel_order(self, order_id: str) -> str:
        self._book.cancel(order_id)
        await self._save()
        return order_id

    async def orders(self) -> list[Order]:
        return self._book.orders()

    async def trades(self) -> list[Trade]:
        return self._book.trades()

    async def positions(self) -> list[Position]:
        return self._book.positions()

    async def holdings(self) -> list[Holding]:
        return self._book.holdings()

    async def funds(self) -> Funds:
        return self._book.funds()

    async def check_margin(self, request: OrderRequest) -> MarginCheck:
        return self._book.check_margin(request)

    async def step(self) -> None:
        """Paper-only control: advance the market one tick now and match orders."""
        self._market.step()
        if self._book.match():
            await self._save()

    def set_price(self, key: str, ltp: Decimal) -> None:
        """Paper-only control: set `key`'s LTP exactly (on its tick; an index also re-prices its
        F&O) and match orders at once. Raises KeyError for an unknown key and ValueError for an
        off-tick price or an untraded strike. Call it from the event loop: fills it causes are
        saved by a task on the running loop."""
        self._market.set_price(key, ltp)
        if self._book.match():
            task = asyncio.get_running_loop().create_task(self._save())
            self._saves.add(task)
            task.add_done_callback(self._saves.discard)

    async def _run_market(self) -> None:
        while True:
            await asyncio.sleep(self._tick_seconds)
            await self.step()

    async def _save(self) -> None:
        await self._state.save(self._snapshot)

    def _snapshot(self) -> Snapshot:
        return Snapshot(
            day=self._today,
            ledger=self._book.ledger,
            prices=self._market.underlying_prices(),
            closes=self._market.underlying_closes(),
        )
