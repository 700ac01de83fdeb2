"""The price-alert watch: prices in, state saved, events out.

Every `every` seconds (ALERT_CHECK_SECONDS) it asks the account for quotes of the instruments
that have active alerts, in batches of at most `batch_size` instruments (the broker's per-call
limit, Kotak 50, passed in by the wiring; None = one call), evaluating each batch as it arrives,
so one failed batch costs only its own instruments until the next round. A broker with a price
feed calls `on_prices` instead, or as well: both go through the same engine under one lock.

After each evaluation the changed states are written to the alerts table *before* the events
are published, so a crash between the two loses a notice rather than sending one twice (the
persistent outbox will close that gap). Events are handed to `publish` (the notifier's) by one
background task in order, so Telegram's per-chat pacing never delays the next price check.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from bot.clock import utcnow
from bot.errors import UserError
from bot.explain import explain
from bot.market.alerts import (
    Alert,
    AlertEngine,
    AlertKind,
    Fired,
    Side,
    armed_side,
    check_rule,
    first_side,
)
from bot.market.freshness import stale_age
from bot.market.instruments import InstrumentIndex
from bot.notify.events import AlertTriggered
from bot.store.alerts import AlertRepo, AlertRow
from brokers.errors import BrokerError
from brokers.models import Instrument, Quote

log = logging.getLogger(__name__)

Quotes = Callable[[Sequence[Instrument]], Awaitable[dict[str, Quote]]]
Publish = Callable[[AlertTriggered], Awaitable[None]]

# How long `stop` waits for fired alerts still queued to be handed to the notifier.
_DRAIN_SECONDS = 5.0
_MAX_NOTE = 200


def alert_from_row(row: AlertRow) -> Alert:
    return Alert(
        id=row.id,
        user_id=row.user_id,
        chat_id=row.chat_id,
        key=row.symbol,
        kind=AlertKind(row.kind),
        level=Decimal(row.level),
        reference=Decimal(row.reference) if row.reference is not None else None,
        note=row.note,
        repeat=bool(row.repeat),
        cooldown=timedelta(seconds=row.cooldown_seconds),
        side=Side(row.side) if row.side is not None else None,
        fired_at=row.fired_at,
        snoozed_until=row.snoozed_until,
    )


def _event(fired: Fired) -> AlertTriggered:
    alert = fired.alert
    return AlertTriggered(
        chat_id=alert.chat_id,
        user_id=alert.user_id,
        alert_id=alert.id,
        key=alert.key,
        kind=str(alert.kind),
        level=alert.level,
        price=fired.price,
        quoted_at=fired.quoted_at,
        direction=fired.direction,
        note=alert.note,
        reference=alert.reference,
    )


class AlertWatch:
    def __init__(
        self,
        repo: AlertRepo,
        quotes: Quotes,
        index: InstrumentIndex,
        publish: Publish,
        *,
        every: float = 5.0,
        max_age: timedelta = timedelta(minutes=5),
        batch_size: int | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        """`quotes` is the account's; `index` the instrument index the bot serves (it follows
        the master); `publish` the notifier's; `max_age` LTP_MAX_AGE_SECONDS."""
        if batch_size is not None and batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._repo = repo
        self._quotes = quotes
        self._index = index
        self._publish = publish
        self._every = every
        self._max_age = max_age
        self._batch_size = batch_size
        self._now = now
        self._engine = AlertEngine(max_age)
        self._lock = asyncio.Lock()
        self._outbox: asyncio.Queue[AlertTriggered] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._unknown: set[str] = set()  # symbols already logged as missing from the index

    # ------------------------------------------------------------------ lifecycle

    async def load(self) -> int:
        """Watch every active alert from the table, with its saved state; returns how many."""
        rows = await self._repo.active()
        async with self._lock:
            for row in rows:
                self._engine.add(alert_from_row(row))
        return len(rows)

    async def start(self) -> None:
        """Load the alerts, then check prices every `every` seconds until `stop`."""
        await self.load()
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._run(), name="alert-watch"),
            loop.create_task(self._deliver(), name="alert-publish"),
        ]

    async def stop(self) -> None:
        """Stop checking; give alerts that already fired a moment to reach the notifier."""
        if not self._tasks:
            return
        checker, publisher = self._tasks
        checker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await checker
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._outbox.join(), _DRAIN_SECONDS)
        publisher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await publisher
        self._tasks = []

    async def drain(self) -> None:
        """Wait until every alert fired so far has been handed to `publish` (after `start`,
        which starts the task that hands them over)."""
        await self._outbox.join()

    # ------------------------------------------------------------------ what users do

    async def add(
        self,
        *,
        user_id: int,
        chat_id: int,
        key: str,
        kind: AlertKind,
        level: Decimal,
        reference: Decimal | None = None,
        note: str = "",
        repeat: bool = False,
        cooldown: timedelta = timedelta(0),
    ) -> Alert:
        """Store a new alert and watch it. A move alert without `reference` is measured from
        a fresh LTP fetched now. Raises `UserError` with one plain sentence."""
        instrument = self._index.resolve(key)
        if kind is AlertKind.MOVE and reference is None:
            reference = await self._price_now(instrument)
        check_rule(kind, level, reference)
        if cooldown < timedelta(0):
            raise UserError("bad_alert", "The cool-down cannot be negative.")
        if len(note) > _MAX_NOTE:
            raise UserError("bad_alert", f"The note is too long: at most {_MAX_NOTE} characters.")
        row = await self._repo.add(
            user_id=user_id,
            chat_id=chat_id,
            symbol=instrument.key,
            kind=str(kind),
            level=str(level),
            reference=str(reference) if reference is not None else None,
            note=note,
            repeat=repeat,
            cooldown_seconds=int(cooldown.total_seconds()),
            side=first_side(kind, level, reference),
        )
        alert = alert_from_row(row)
        async with self._lock:
            self._engine.add(alert)
        return alert

    async def remove(self, alert_id: int, user_id: int) -> None:
        """`/alert off ID`: only the user's own alert; otherwise a plain refusal."""
        async with self._lock:
            if not await self._repo.remove(alert_id, user_id):
                raise UserError("no_alert", f"You have no active alert {alert_id}.")
            self._engine.remove(alert_id)

    async def owned(self, alert_id: int, user_id: int) -> Alert:
        """The user's alert `alert_id`, active or fired (what a button on its notice acts
        on); a plain refusal when it is gone or someone else's."""
        row = await self._repo.get(alert_id)
        if row is None:
            raise UserError("no_alert", f"Alert {alert_id} was deleted.")
        if row.user_id != user_id:
            raise UserError("not_owner", "Only the person who set this alert can use its buttons.")
        return alert_from_row(row)

    async def snooze(self, alert_id: int, user_id: int, span: timedelta) -> Alert:
        """Arm the user's alert again, silent for `span`: the first fresh price past its
        level after that fires it (a one-shot that fired is active again until then)."""
        async with self._lock:
            alert = await self.owned(alert_id, user_id)
            until = self._now() + span
            side = armed_side(alert.kind, alert.side)
            if not await self._repo.snooze(alert_id, user_id, side, until):
                raise UserError("no_alert", f"Alert {alert_id} was deleted.")
            row = await self._repo.get(alert_id)
            assert row is not None  # just updated on this connection
            snoozed = alert_from_row(row)
            self._engine.add(snoozed)
        return snoozed

    async def alerts_of(self, user_id: int) -> list[Alert]:
        """The user's active alerts, oldest first, with their saved state."""
        return [alert_from_row(row) for row in await self._repo.of_user(user_id)]

    # ------------------------------------------------------------------ prices in

    async def on_prices(self, quotes: Iterable[Quote]) -> None:
        """Evaluate prices (from a poll or a feed): save what changed, then queue the events.
        Undated and stale prices are ignored by the engine."""
        async with self._lock:
            result = self._engine.evaluate(quotes, self._now())
            if result.states:
                try:
                    await self._repo.save_states(result.states)
                except Exception:
                    # The engine has moved on; a restart may fire these once more. Still tell
                    # the user now: a missed alert costs more than a repeated one.
                    log.exception("could not save the state of %d alerts", len(result.states))
        for fired in result.fired:
            self._outbox.put_nowait(_event(fired))

    async def check(self) -> None:
        """One round: quote every instrument with an active alert, batch by batch."""
        for batch in self._batches():
            try:
                quotes = await self._quotes(batch)
            except BrokerError as exc:
                log.warning("alert prices for %d instruments not read: %s", len(batch), exc.message)
                continue
            await self.on_prices(quotes.values())

    def _batches(self) -> list[list[Instrument]]:
        instruments = []
        for key in self._engine.watched():
            instrument = self._index.get(key)
            if instrument is None:
                if key not in self._unknown:  # an expired contract, or a master not loaded
                    self._unknown.add(key)
                    log.warning("alerts on %s wait: it is not in the instrument list", key)
                continue
            instruments.append(instrument)
        size = self._batch_size or max(len(instruments), 1)
        return [instruments[i : i + size] for i in range(0, len(instruments), size)]

    async def _price_now(self, instrument: Instrument) -> Decimal:
        try:
            quotes = await self._quotes([instrument])
        except BrokerError as exc:
            raise explain(exc) from None
        quote = quotes.get(instrument.key)
        if (
            quote is None
            or quote.ltp is None
            or quote.at is None
            or stale_age(quote, self._now(), self._max_age) is not None
        ):
            raise UserError(
                "no_ltp",
                f"{instrument.key} has no recent last traded price to measure a move from; "
                "try again when it trades, or set an above/below alert.",
            )
        return quote.ltp

    async def _run(self) -> None:
        while True:
            try:
                await self.check()
            except Exception:
                log.exception("price alert check failed")
            await asyncio.sleep(self._every)

    async def _deliver(self) -> None:
        while True:
            event = await self._outbox.get()
            try:
                await self._publish(event)
            except Exception:
                log.exception("could not publish alert %s", event.alert_id)
            finally:
                self._outbox.task_done()
