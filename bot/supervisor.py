"""The session supervisor: the only door from the core to a broker session.

It logs in, keeps the session alive (one re-login and one retry when the broker says the session
expired: nothing was executed in that case), and paces order calls (place, modify and cancel
together) through one per-account rate limiter, because SEBI's retail-algo rules cap a client at
10 orders per second and brokers reject the excess.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from bot.ratelimit import SlidingWindowLimiter
from brokers.base import Broker
from brokers.errors import BrokerError, SessionExpired
from brokers.models import (
    Funds,
    Holding,
    Instrument,
    ModifyRequest,
    Order,
    OrderRequest,
    Position,
    Quote,
    SessionInfo,
    Trade,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SessionStatus:
    """What `/session` shows: built field by field, never from the broker's raw session."""

    broker: str
    account: str | None
    created_at: datetime | None
    last_error: str | None
    orders_open: bool
    blocked_reason: str | None


class Supervisor:
    def __init__(
        self,
        broker: Broker,
        limiter: SlidingWindowLimiter,
        *,
        otp: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.broker = broker
        self._limiter = limiter
        self._otp = otp
        self._session: SessionInfo | None = None
        self._last_error: str | None = None

    async def start(self) -> None:
        await self._login()

    async def stop(self) -> None:
        await self.broker.close()

    async def _login(self) -> None:
        try:
            self._session = await self.broker.login(self._otp())
        except BrokerError as exc:
            self._last_error = exc.message
            raise
        self._last_error = None
        log.info("broker session created for %s", self._session.account)

    async def _call(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Run a broker call; on an expired session log in again and retry once."""
        try:
            return await fn()
        except SessionExpired:
            log.warning("broker session expired; logging in again")
            await self._login()
            return await fn()

    async def _order_call(self, fn: Callable[[], Awaitable[T]]) -> T:
        async def paced() -> T:
            await self._limiter.acquire()
            return await fn()

        return await self._call(paced)

    def status(self) -> SessionStatus:
        return SessionStatus(
            broker=self.broker.name,
            account=self._session.account if self._session else None,
            created_at=self._session.created_at if self._session else None,
            last_error=self._last_error,
            orders_open=self._session is not None,
            blocked_reason=None if self._session else "no broker session",
        )

    # -- order calls (rate limited) ----------------------------------------------------------

    async def place(self, request: OrderRequest) -> str:
        return await self._order_call(lambda: self.broker.place_order(request))

    async def modify(self, request: ModifyRequest) -> str:
        return await self._order_call(lambda: self.broker.modify_order(request))

    async def cancel(self, order_id: str) -> str:
        return await self._order_call(lambda: self.broker.cancel_order(order_id))

    # -- reads -------------------------------------------------------------------------------

    async def instruments(self) -> Sequence[Instrument]:
        return await self._call(self.broker.instruments)

    async def quotes(self, instruments: Sequence[Instrument]) -> dict[str, Quote]:
        return await self._call(lambda: self.broker.quotes(instruments))

    async def orders(self) -> list[Order]:
        return await self._call(self.broker.orders)

    async def trades(self) -> list[Trade]:
        return await self._call(self.broker.trades)

    async def positions(self) -> list[Position]:
        return await self._call(self.broker.positions)

    async def holdings(self) -> list[Holding]:
        return await self._call(self.broker.holdings)

    async def funds(self) -> Funds:
        return await self._call(self.broker.funds)
