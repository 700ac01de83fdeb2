"""The daily summary: what the account did today, once a day after the close.

At `DAILY_SUMMARY_AT` (IST, 15:45 by default: after the 15:30 close, once the closing prices are
in) on a weekday, the summary reads the broker's order book and positions through the account
(reads are not IP-gated, so it comes even when orders are blocked) and the day's session and IP
incidents from the audit log, and hands one `DailySummary` to `deliver`. A bot started after the
summary time sends it then, until midnight.

Once a day even across restarts: the day is claimed in the database *before* delivery (a crash
while sending loses that day's summary rather than sending it twice). A broker read that fails
does not stop the summary: the part it could not tell is named in `unavailable`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time

from bot.accounts import IST, Account
from bot.clock import utcnow
from bot.errors import UserError
from bot.notify.events import DailySummary, Incident, PositionPnL, RejectedOrder
from bot.store.preferences import PreferenceRepo
from brokers.errors import BrokerError
from brokers.models import OrderStatus

log = logging.getLogger(__name__)

__all__ = ["DailySummaries", "gather_summary"]

_WEEKEND = (5, 6)  # Saturday, Sunday: no trading session


def _why(exc: BrokerError | UserError) -> str:
    return exc.message if isinstance(exc, BrokerError) else exc.text


async def gather_summary(
    account: Account, repo: PreferenceRepo, day: date, *, label: str
) -> DailySummary:
    """The day's summary from the broker's book and positions and the audit log."""
    missing: list[str] = []
    orders, filled, rejected = 0, 0, []
    try:
        book = await account.orders()
    except (BrokerError, UserError) as exc:
        missing.append(f"the order book ({_why(exc)})")
    else:
        orders = len(book)
        filled = sum(1 for o in book if o.status is OrderStatus.COMPLETE)
        rejected = [
            RejectedOrder(o.key, o.side.value, o.quantity, o.message)
            for o in book
            if o.status is OrderStatus.REJECTED
        ]
    positions: list[PositionPnL] = []
    try:
        for p in await account.positions():
            unrealised = p.unrealized_pnl if p.ltp is not None or p.quantity == 0 else None
            positions.append(PositionPnL(p.key, p.quantity, p.realized_pnl, unrealised))
    except (BrokerError, UserError) as exc:
        missing.append(f"positions ({_why(exc)})")
    since = datetime.combine(day, time(0), IST).astimezone(UTC)
    incidents = [
        Incident(at, *(what.split(": ", 1) if ": " in what else (what, "")))
        for at, what in await repo.incidents(since)
    ]
    return DailySummary(
        day=day,
        broker=account.broker.name,
        account=label,
        orders=orders,
        filled=filled,
        rejected=tuple(rejected),
        positions=tuple(positions),
        incidents=tuple(incidents),
        unavailable=" and ".join(missing) or None,
    )


class DailySummaries:
    """Sends the summary once per trading day at `at` (IST); `at=None` turns it off."""

    def __init__(
        self,
        account: Account,
        repo: PreferenceRepo,
        deliver: Callable[[DailySummary], Awaitable[None]],
        *,
        at: time | None,
        label: str,
        now: Callable[[], datetime] = utcnow,
        every: float = 30.0,
    ) -> None:
        self._account = account
        self._repo = repo
        self._deliver = deliver
        self._at = at
        self._label = label
        self._now = now
        self._every = every

    def _due_day(self) -> date | None:
        """Today (IST) when the summary time has passed on a weekday, else None."""
        if self._at is None:
            return None
        local = self._now().astimezone(IST)
        if local.weekday() in _WEEKEND or local.time() < self._at:
            return None
        return local.date()

    async def check(self) -> bool:
        """Send today's summary if it is due and not sent yet; True when this call sent it."""
        day = self._due_day()
        if day is None or await self._repo.summary_sent(day):
            return False
        if not await self._repo.mark_summary_sent(day):
            return False
        summary = await gather_summary(self._account, self._repo, day, label=self._label)
        await self._deliver(summary)
        log.info("daily summary for %s sent", day.isoformat())
        return True

    async def run(self) -> None:
        while True:
            try:
                await self.check()
            except Exception:
                log.exception("daily summary failed; trying again at the next check")
            await asyncio.sleep(self._every)
