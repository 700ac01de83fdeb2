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
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from brokers.amo import STANDARD
from brokers.models import (
    AmoWindow,
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
from brokers.paper.instruments import build_instruments, ist_date
from brokers.paper.ledger import Ledger
from brokers.paper.market import Market
from brokers.paper.state import Snapshot, StateFile, load_snapshot


class PaperBroker:
    """A simulated NSE account with a moving market.

    `tick_seconds` is how often prices move once `login()` has started the market; `<= 0` turns
    the automatic movement off (tests and benches then move prices with `step()` and
    `set_price()`, which are paper-only controls). `seed` makes the random walk repeatable.

    After-market orders (`OrderRequest.amo`) placed while `is_open` (the bot's market hours)
    says their segment is shut are held PENDING, margin blocked, across the day's change, and
    sent to the paper exchange at the first call once it opens (without `is_open`, at once).

    Trading days are India's (Asia/Kolkata), read from `clock` (aware UTC now; tests pass their
    own to move time). When the day changes, expired contracts settle and the day's orders and
    trades end (`Book.new_day`), and the instrument list moves on to the new day's expiries;
    a state file saved on an earlier day goes through the same change when it is loaded.
    `today` fixes the first trading day (and so the built-in expiries); without a `clock` it
    stays fixed, so a test that names a date is not moved on by the wall clock.
    """

    name = "paper"

    def __init__(
        self,
        state_path: Path,
        capital: Decimal = Decimal(1_000_000),
        tick_seconds: float = 1.0,
        seed: int | None = None,
        today: date | None = None,
        clock: Callable[[], datetime] | None = None,
        is_open: Callable[[Instrument, datetime], bool] | None = None,
    ) -> None:
        self._clock = clock or _utcnow
        self._is_open = is_open
        self._rolls = today is None or clock is not None
        start = today or ist_date(self._clock())
        self._tick_seconds = tick_seconds
        self._rng = random.Random(seed)
        saved = load_snapshot(state_path)
        # A file from an earlier day is opened on its own day, then taken through the change.
        self._today = saved.day if saved is not None and saved.day < start else start
        self._instruments = build_instruments(self._today)
        prices = saved.prices if saved else {}
        closes = (saved.closes if saved.day == self._today else saved.prices) if saved else {}
        self._market = Market(
            self._instruments, self._today, self._rng, closes, prices, self._clock
        )
        ledger = saved.ledger if saved else Ledger(cash=capital)
        self._book = Book(ledger, self._market, self._clock, is_open)
        self._state = StateFile(state_path)
        self._ticker: asyncio.Task[None] | None = None
        self._saves: set[asyncio.Task[None]] = set()
        if self._today < start:
            self._new_day(start)

    async def login(self, otp: str | None = None) -> SessionInfo:
        """Start the market (idempotent). Paper has no credentials: `otp` is ignored."""
        if self._tick_seconds > 0 and (self._ticker is None or self._ticker.done()):
            self._ticker = asyncio.create_task(self._run_market(), name="paper-market")
        return SessionInfo(account="PAPER", created_at=self._clock())

    async def close(self) -> None:
        """Stop the market and write the final state."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        await asyncio.gather(*self._saves)
        await self._save()

    def instruments_version(self) -> str:
        """The trading day the instrument list is for (`VersionedInstruments`): the core
        rebuilds its index when a new day brings new expiries."""
        self._check_day()
        return self._today.isoformat()

    async def instruments(self) -> Sequence[Instrument]:
        self._check_day()
        return self._instruments

    async def quotes(self, instruments: Sequence[Instrument]) -> dict[str, Quote]:
        self._check_day()
        return {
            instrument.key: self._market.quote(instrument.key)
            for instrument in instruments
            if self._market.instrument(instrument.key) is not None
        }

    async def place_order(self, request: OrderRequest) -> str:
        self._check_day()
        order_id = self._book.place(request)
        await self._save()
        return order_id

    async def modify_order(self, request: ModifyRequest) -> str:
        self._check_day()
        self._book.modify(request)
        await self._save()
        return request.order_id

    async def cancel_order(self, order_id: str, *, amo: bool = False) -> str:
        """`amo` is the core's word that the order is an AMO; the paper book knows its own."""
        self._check_day()
        self._book.cancel(order_id)
        await self._save()
        return order_id

    async def orders(self) -> list[Order]:
        self._check_day()
        return self._book.orders()

    async def trades(self) -> list[Trade]:
        self._check_day()
        return self._book.trades()

    async def positions(self) -> list[Position]:
        self._check_day()
        return self._book.positions()

    async def holdings(self) -> list[Holding]:
        self._check_day()
        return self._book.holdings()

    async def funds(self) -> Funds:
        self._check_day()
        return self._book.funds()

    async def check_margin(self, request: OrderRequest) -> MarginCheck:
        return self._book.check_margin(request)

    async def step(self) -> None:
        """Paper-only control: advance the market one tick now and match orders."""
        self._check_day()
        self._market.step()
        if self._book.match():
            await self._save()

    def set_price(self, key: str, ltp: Decimal) -> None:
        """Paper-only control: set `key`'s LTP exactly (on its tick; an index also re-prices its
        F&O) and match orders at once. Raises KeyError for an unknown key and ValueError for an
        off-tick price or an untraded strike. Call it from the event loop: fills it causes are
        saved by a task on the running loop."""
        self._check_day()
        self._market.set_price(key, ltp)
        if self._book.match():
            self._save_soon()

    def amo_window(self, exchange: str) -> AmoWindow | None:
        """`brokers.base.TakesAfterMarketOrders`: the paper account takes AMOs in the common
        brokers' windows, holds them and sends them to its exchange when the segment opens."""
        return STANDARD.get(exchange)

    def _check_day(self) -> None:
        """Move to the new trading day once India's date has changed (each call looks first,
        so nothing is matched, placed or read on a day that has ended), and send the held AMOs
        once their segment opens."""
        if self._rolls and (day := ist_date(self._clock())) > self._today:
            self._new_day(day)
            self._save_soon()
        if self._book.release():
            self._save_soon()

    def _new_day(self, day: date) -> None:
        """Settle and close the old day on its own market, then open `day`'s: its expiries,
        and yesterday's last prices as its previous closes."""
        prices = self._market.underlying_prices()
        self._today = day
        self._instruments = build_instruments(day)
        market = Market(self._instruments, day, self._rng, prices, prices, self._clock)
        self._book.new_day(day, market)
        self._market = market

    def _save_soon(self) -> None:
        """Save from a task on the running loop, for changes made where no one awaits."""
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


def _utcnow() -> datetime:
    return datetime.now(UTC)
