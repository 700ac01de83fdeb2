"""The daily-limit guard of one account (issue 15): the desk's kill switch.

The rules are `bot.orders.limits`; this is where they meet the day. The desk asks `check_order`
before a card is shown: an exit always passes; an entry is refused with the sentence of the
limit it hits. When a day's limit (the loss, the order count) is hit, the account halts: the
halt is written to SQLite (per account name and IST trading day, so it ends with the day and
survives a restart), the admins get one push (one row per halt: the first writer pushes), and
every later entry is refused until an admin confirms /resume or the next trading day starts.

When the loss is evaluated: before each entry's card (from the broker's positions, at the
broker's LTP), on /limits and /pnl, and every `every` seconds by `run` while a loss or count
limit is set, so a loss reached with no order in flight halts the account too. A card shown before a
halt is checked again at Confirm, from the halt the guard keeps in memory (no broker or
database read on the confirm path unless the account is halted).

A resume lifts the halt for the rest of the day and waives the limit that was hit: it is not
applied again that day unless an admin sets it again (`/limits loss 8000`), which re-arms it.
The other limits still apply.

Broker reads that fail refuse the entry (fail closed): without positions the guard cannot
tell an exit from an entry, nor the loss.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from bot.accounts import IST, Account
from bot.clock import utcnow
from bot.errors import UserError
from bot.explain import explain_read
from bot.market.pnl import DayPnL, day_pnl
from bot.notify.events import AdminEvent, LimitHalted
from bot.orders.limits import (
    Breach,
    DailyLimits,
    LimitKind,
    Usage,
    check_day,
    check_entry,
    closable,
    orders_today,
)
from bot.orders.policy import OrderPlan
from bot.store.limits import HaltRow, LimitRepo
from brokers.errors import BrokerError
from brokers.models import Holding, Order, Position, Product, Side

__all__ = ["Halt", "LimitGuard", "LimitsView"]

log = logging.getLogger(__name__)

WATCH_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Halt:
    """An open halt: which limit was hit, by how much, since when."""

    id: int
    breach: Breach
    since: datetime

    def refusal(self) -> UserError:
        at = f"{self.since.astimezone(IST):%H:%M} IST"
        return UserError(
            f"halted_{self.breach.kind.value}",
            f"Refused: new entries are halted since {at}: {self.breach.sentence()}. Exits "
            "(orders that only reduce an open position) are still allowed; an admin can lift "
            "the halt with /resume.",
        )


@dataclass(frozen=True, slots=True)
class LimitsView:
    """What /limits shows: the limits, today's use of them (None when the broker could not
    tell: `problem` says why), the halt, and the limits waived today by a resume."""

    account: str
    limits: DailyLimits
    usage: Usage | None
    halt: Halt | None
    waived: frozenset[LimitKind]
    problem: str | None = None


def _halt_of(row: HaltRow) -> Halt:
    return Halt(row.id, Breach(LimitKind(row.kind), row.limit, row.actual), row.halted_at)


class LimitGuard:
    def __init__(
        self,
        repo: LimitRepo,
        account: Account,
        *,
        name: str,
        label: str | None = None,
        defaults: DailyLimits,
        notify: Callable[[AdminEvent], Awaitable[None]],
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        """`name`: the account's name, the key of its limits and halts; `label`: what messages
        call it (default: `name`); `defaults`: the settings' limits, which an admin's change
        replaces kind by kind."""
        self._repo = repo
        self._account = account
        self.name = name
        self.label = label or name
        self._defaults = defaults
        self._notify = notify
        self._now = now
        # What SQLite holds for this account, kept as it is written: this guard is its only
        # writer (one guard per account, one bot per database: bot.app.lock). So the order path
        # (every card, every Confirm) asks the database nothing while no limit is set and
        # nothing is halted. The open halt is kept with its day: a new day reads it again.
        self._limits: DailyLimits | None = None
        self._open: tuple[date, Halt | None] | None = None

    def _day(self) -> date:
        return self._now().astimezone(IST).date()

    async def limits(self) -> DailyLimits:
        if self._limits is None:
            limits = self._defaults
            for kind, value in (await self._repo.changed(self.name)).items():
                limits = limits.with_value(LimitKind(kind), value or None)
            self._limits = limits
        return self._limits

    async def halt(self) -> Halt | None:
        """Today's open halt (cards and /session ask; no broker read)."""
        day = self._day()
        if self._open is None or self._open[0] != day:
            row = await self._repo.open_halt(self.name, day)
            self._open = (day, _halt_of(row) if row is not None else None)
        return self._open[1]

    # -- the desk's questions ------------------------------------------------------------------

    async def check_order(self, plan: OrderPlan) -> None:
        """Before a card: pass an exit, refuse an entry a limit stops (halting the account when
        the limit is the day's)."""
        limits, halt = await self.limits(), await self.halt()
        if halt is None and not limits.any:
            return
        positions, book, holdings = await self._reads(plan.side, plan.product)
        if _is_exit(plan, positions, book, holdings):
            return
        if halt is not None:
            raise halt.refusal()
        usage = Usage(day_pnl(positions).total, orders_today(book))
        waived = await self._waived()
        breach = check_entry(
            limits,
            usage,
            value=plan.price * plan.quantity,
            orders=len(plan.slices),
            waived=waived,
        )
        if breach is None:
            return
        if breach.kind.halts and not breach.adding:
            raise (await self._halt(breach)).refusal()
        raise breach.refusal()

    async def check_modify(self, order: Order, quantity: int, price: Decimal) -> None:
        """Before a modify's card. Growing an open order is an entry for the limits, like a new
        order of the added quantity (it halts or is refused the same way), unless what it adds
        only reduces an open position; re-pricing it up must keep its value within the one-order
        limit. Shrinking an order, or lowering its value, is never refused."""
        added, value = quantity - order.quantity, price * quantity
        if added <= 0 and value <= order.price * order.quantity:
            return
        limits, halt = await self.limits(), await self.halt()
        if halt is None and not limits.any:
            return
        if added <= 0:  # the same order at a higher price: only its value is new
            breach = check_entry(
                DailyLimits(max_order_value=limits.max_order_value), Usage(Decimal(0), 0),
                value=value, orders=0,
            )  # fmt: skip
            if breach is not None:
                raise breach.refusal()
            return
        positions, book, holdings = await self._reads(order.side, order.product)
        # The book counts the open order itself as closing already; only what it adds is new.
        if added <= closable(order.side, order.key, order.product, positions, book, holdings):
            return
        if halt is not None:
            raise halt.refusal()
        usage = Usage(day_pnl(positions).total, orders_today(book))
        breach = check_entry(limits, usage, value=value, orders=0, waived=await self._waived())
        if breach is None:
            return
        if breach.kind.halts and not breach.adding:
            raise (await self._halt(breach)).refusal()
        raise breach.refusal()

    async def check_confirm(self, plan: OrderPlan) -> None:
        """At Confirm: a card shown before the account halted cannot send an entry after. The
        broker is asked (to tell an exit) only while halted."""
        halt = await self.halt()
        if halt is None:
            return
        positions, book, holdings = await self._reads(plan.side, plan.product)
        if not _is_exit(plan, positions, book, holdings):
            raise halt.refusal()

    # -- the day ---------------------------------------------------------------------------------

    async def view(self) -> LimitsView:
        """The limits and today's use of them (/limits); a day's limit found hit halts here."""
        limits, waived = await self.limits(), await self._waived()
        problem, usage = None, None
        try:
            positions, book = await asyncio.gather(
                self._account.positions(), self._account.orders()
            )
        except BrokerError as exc:
            problem = explain_read(exc, "today's positions and orders").text
        else:
            usage = Usage(day_pnl(positions).total, orders_today(book))
            await self._halt_if_hit(limits, usage, waived)
        return LimitsView(self.label, limits, usage, await self.halt(), waived, problem)

    async def check_now(self) -> Halt | None:
        """One look at the day (the watch): halt when the loss or the count is hit."""
        limits = await self.limits()
        if limits.max_loss is None and limits.max_orders is None:
            return None
        if (halt := await self.halt()) is not None:
            return halt
        positions, book = await asyncio.gather(self._account.positions(), self._account.orders())
        usage = Usage(day_pnl(positions).total, orders_today(book))
        return await self._halt_if_hit(limits, usage, await self._waived())

    async def run(self, every: float = WATCH_SECONDS) -> None:
        """The watch, until cancelled; a failed look is logged and tried at the next one."""
        while True:
            try:
                await self.check_now()
            except Exception:
                log.warning("daily limit check of %s failed; retrying", self.name, exc_info=True)
            await asyncio.sleep(every)

    async def pnl(self) -> DayPnL:
        """Today's P&L (/pnl), which also halts the account when the loss limit is hit."""
        try:
            positions = await self._account.positions()
        except BrokerError as exc:
            raise explain_read(exc, "today's positions") from None
        pnl = day_pnl(positions)
        limits = await self.limits()
        if limits.max_loss is not None:
            try:
                book = await self._account.orders()
            except BrokerError:
                log.info("no order book for the daily limits; /pnl goes on", exc_info=True)
            else:
                usage = Usage(pnl.total, orders_today(book))
                await self._halt_if_hit(limits, usage, await self._waived())
        return pnl

    # -- an admin's changes ----------------------------------------------------------------------

    async def set_limit(self, user_id: int, kind: LimitKind, value: Decimal | None) -> DailyLimits:
        """Change one limit for this account (None: no limit). A waived limit is re-armed."""
        await self._repo.change(self.name, kind.value, value or Decimal(0), user_id, self._now())
        self._limits = None
        log.info("user %s set the %s of %s to %s", user_id, kind.label, self.name, value)
        return await self.limits()

    async def resume(self, user_id: int, halt_id: int) -> Halt:
        """Lift halt `halt_id` (an admin confirmed its card): only that halt, only once."""
        halt = await self.halt()
        if halt is None or halt.id != halt_id:
            raise UserError("not_halted", "This halt is no longer in force; nothing was changed.")
        resumed = await self._repo.resume(self.name, halt_id, user_id, self._now())
        self._open = None
        if not resumed:
            raise UserError("already_answered", "This was already answered; nothing more was done.")
        log.info("user %s resumed entries on %s", user_id, self.name)
        return halt

    # -- inside ------------------------------------------------------------------------------------

    async def _reads(
        self, side: Side, product: Product
    ) -> tuple[list[Position], list[Order], list[Holding]]:
        """Positions, the order book and (for a CNC sell) holdings, read together: one broker
        round trip's wait before the card instead of three."""
        account = self._account
        try:
            if side is Side.SELL and product is Product.CNC:
                return await asyncio.gather(
                    account.positions(), account.orders(), account.holdings()
                )
            positions, book = await asyncio.gather(account.positions(), account.orders())
        except BrokerError as exc:
            raise explain_read(exc, "the positions to check today's limits") from None
        return positions, book, []

    async def _waived(self) -> frozenset[LimitKind]:
        return frozenset(LimitKind(k) for k in await self._repo.waived(self.name, self._day()))

    async def _halt_if_hit(
        self, limits: DailyLimits, usage: Usage, waived: frozenset[LimitKind]
    ) -> Halt | None:
        breach = check_day(limits, usage, waived)
        return await self._halt(breach) if breach is not None else None

    async def _halt(self, breach: Breach) -> Halt:
        """Open today's halt for `breach` and push the admins, once: when a halt is already
        open (another check got there first), that one stands."""
        at = self._now()
        day = at.astimezone(IST).date()
        if await self._repo.halt(
            self.name, day, breach.kind.value, breach.limit, breach.actual, at
        ):
            log.warning("entries on %s halted: %s", self.name, breach.sentence())
            await self._notify(
                LimitHalted(self.label, breach.kind.value, breach.limit, breach.actual, at)
            )
        self._open = None
        halt = await self.halt()
        assert halt is not None, "a halt is open: this call's or an earlier one"
        return halt


def _is_exit(
    plan: OrderPlan, positions: list[Position], book: list[Order], holdings: list[Holding]
) -> bool:
    key = plan.instrument.key
    return plan.quantity <= closable(plan.side, key, plan.product, positions, book, holdings)
