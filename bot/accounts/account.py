"""One broker account: the only door from the core to a broker session.

An `Account` composes the gate (whitelist, egress IP, the fail-closed order verdict), the session
(login, resume, daily renewal, backoff) and the call policy (what is retried, and how), and runs
the timer that keeps them current: the egress IP is checked at start, every `check_every`
seconds and after any IP refusal, because a host whose IP moves keeps its old session alive
while the broker refuses every order from it; a reading older than `EGRESS_MAX_CHECKS` intervals
no longer counts. Reads pass through the same door without the gate.

The limiter admits order calls; when the broker can wait at the moment of the write
(`PacesOrderWrites`), a twin of it paces the writes too, so the budget holds where the requests
arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, time, timedelta

from bot.accounts.calls import CallPolicy
from bot.accounts.egress import EgressChecker, EgressReading, IPAddress
from bot.accounts.gate import Gate, Whitelist
from bot.accounts.limiter import SlidingWindowLimiter
from bot.accounts.session import Session
from bot.accounts.session_file import SessionFile
from bot.accounts.status import SessionStatus, session_status
from bot.accounts.totp import TotpSource
from bot.clock import utcnow
from bot.errors import UserError
from bot.notify.events import AdminEvent, NoWhitelist
from brokers.base import (
    Broker,
    ChecksMargin,
    PacesOrderWrites,
    RegistersIPsPerKey,
    TakesAfterMarketOrders,
)
from brokers.errors import BrokerError
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
    Trade,
)
from brokers.writes import request_written

log = logging.getLogger(__name__)

# The egress reading expires after this many check intervals without an answer: long enough for
# a service to miss a check or two, short enough that a moved host is not trusted for long.
EGRESS_MAX_CHECKS = 3


async def _no_notice(_: AdminEvent) -> None:
    return None


class Account:
    def __init__(
        self,
        broker: Broker,
        limiter: SlidingWindowLimiter,
        *,
        whitelist: Whitelist | None = None,
        egress: EgressChecker | None = None,
        totp: TotpSource | None = None,
        notify: Callable[[AdminEvent], Awaitable[None]] = _no_notice,
        session_file: SessionFile | None = None,
        check_every: float = 60.0,
        relogin_at: time = time(8, 30),
        warn_without_whitelist: bool = True,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.broker = broker
        self._notify = notify
        self._check_every = check_every
        self._warn_without_whitelist = warn_without_whitelist  # the paper broker checks no IP
        self._gate = Gate(
            broker,
            whitelist or Whitelist(),
            egress,
            notify,
            max_age=timedelta(seconds=EGRESS_MAX_CHECKS * check_every),
            now=now,
        )
        self._session = Session(
            broker,
            self._gate,
            totp=totp,
            notify=notify,
            session_file=session_file,
            relogin_at=relogin_at,
            now=now,
        )
        self._calls = CallPolicy(broker, self._gate, self._session, limiter)
        if isinstance(broker, PacesOrderWrites):
            broker.pace_order_writes(limiter.twin().acquire)
        self._task: asyncio.Task[None] | None = None

    @property
    def whitelist(self) -> Whitelist:
        return self._gate.whitelist

    @property
    def egress_ip(self) -> IPAddress | None:
        return self._gate.egress_ip

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Learn the IP, then resume or create a session. A failed login does not stop the bot:
        it is reported, read-only work continues where possible, and login is retried."""
        await self._session.remind_ip_change()
        await self.refresh_egress()
        with contextlib.suppress(BrokerError, UserError):
            await self._session.resume_or_login()
        self._gate.update(self._session)
        if not self.whitelist.configured and self._warn_without_whitelist:
            await self._notify(NoWhitelist(self.broker.name))
        await self._gate.settle()  # start-up notices are all told before start() returns
        self._task = asyncio.create_task(self._watch(), name=f"account-{self.broker.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._session.close()
        await self._gate.close()
        await self.broker.close()

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._check_every)
            try:
                await self.tick()
            except Exception:
                log.exception("session check failed")

    async def tick(self) -> None:
        """One timer round: IP check, then whatever session work it calls for."""
        await self.refresh_egress()
        await self._session.maintain()
        self._gate.update(self._session)

    async def refresh_egress(self) -> EgressReading | None:
        """A new egress reading now (the last good one when nothing answers)."""
        return await self._gate.refresh(self._session)

    def ip_problem(self) -> str | None:
        """Why the broker would refuse an order from this host's IP, or None: the gate's rule,
        for the doctor to show the bot's own verdict."""
        return self._gate.ip_problem()

    def check_orders_open(self) -> None:
        """Raise `UserError("orders_blocked", …)` when the IP gate is closed."""
        self._gate.check_orders_open()

    def amo_window(self, exchange: str) -> AmoWindow | None:
        """When the broker takes after-market orders for `exchange` (None: it takes none)."""
        if isinstance(self.broker, TakesAfterMarketOrders):
            return self.broker.amo_window(exchange)
        return None

    @property
    def last_broker_answer(self) -> datetime | None:
        """When the broker last answered a read or an order call through this account."""
        return self._calls.last_answer

    def status(self) -> SessionStatus:
        return session_status(
            self.broker.name,
            self._gate,
            self._session,
            warn_without_whitelist=self._warn_without_whitelist,
            key_prefix=(
                self.broker.api_key_prefix if isinstance(self.broker, RegistersIPsPerKey) else None
            ),
        )

    # -- order calls (gated, rate limited) -----------------------------------------------------

    async def place(
        self, request: OrderRequest, *, on_written: Callable[[], None] | None = None
    ) -> str:
        """The broker's order number. `UnknownOutcome` when it cannot be known yet (reconcile by
        tag); a reused tag is settled here, from the book, and never surfaces.

        `on_written` is the caller's work to start while the order travels (the tap's answer):
        called once the request is written, for an adapter that reports its writes
        (`brokers.writes`), so that work never shares the loop with the request's own; for any
        other, right away. Not at all when the request is refused before it is written."""
        if on_written is None:
            return await self._calls.place(request)
        if not isinstance(self.broker, PacesOrderWrites):
            on_written()
            return await self._calls.place(request)
        written = request_written.set(on_written)
        try:
            return await self._calls.place(request)
        finally:
            request_written.reset(written)

    async def modify(self, request: ModifyRequest) -> str:
        return await self._calls.modify(request)

    async def cancel(self, order_id: str, *, amo: bool = False) -> str:
        return await self._calls.cancel(order_id, amo=amo)

    # -- reads (not IP-checked by brokers) -----------------------------------------------------

    async def instruments(self) -> Sequence[Instrument]:
        return await self.broker.instruments()

    async def quotes(self, instruments: Sequence[Instrument]) -> dict[str, Quote]:
        return await self._calls.read(lambda: self.broker.quotes(instruments))

    async def orders(self) -> list[Order]:
        return await self._calls.read(self.broker.orders)

    async def trades(self) -> list[Trade]:
        return await self._calls.read(self.broker.trades)

    async def positions(self) -> list[Position]:
        return await self._calls.read(self.broker.positions)

    async def holdings(self) -> list[Holding]:
        return await self._calls.read(self.broker.holdings)

    async def funds(self) -> Funds:
        return await self._calls.read(self.broker.funds)

    async def check_margin(self, request: OrderRequest) -> MarginCheck | None:
        """The broker's margin answer for `request`; None when the broker cannot tell."""
        broker = self.broker
        if not isinstance(broker, ChecksMargin):
            return None
        return await self._calls.read(lambda: broker.check_margin(request))
