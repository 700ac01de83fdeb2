"""The paper broker's contract driver: no simulator, its own market is steered directly.

Fills come from `PaperBroker.set_price` (a paper-only control: the LTP moves to the order's limit,
and the book matches at once); a holding comes from buying through the adapter itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

from brokers.models import (
    InstrumentKind,
    OrderRequest,
    OrderType,
    Product,
    SessionInfo,
    Side,
)
from brokers.paper import PaperBroker
from brokers.paper.instruments import has_traded
from tests.contract.driver import Expect, Failure

TODAY = date(2026, 11, 23)  # fixed, so the built-in F&O (and their keys) are the same every run
CAPITAL = Decimal(1_000_000)

_UNSUPPORTED = MappingProxyType(
    {
        Failure.THROTTLED: "paper has no request rate limit",
        Failure.PLACE_TIMEOUT: "paper places in memory: no request can go unanswered",
        Failure.IP_NOT_WHITELISTED: "paper has no IP whitelist",
        Failure.SESSION_IP_MISMATCH: "paper sessions are not bound to an IP",
        Failure.SESSION_EXPIRED: "paper sessions never expire (login only starts the market)",
    }
)


class PaperDriver:
    """`BrokerDriver` for `PaperBroker` with the automatic market movement off."""

    name = "paper"
    account = "PAPER"
    equity = "NSE:SBIN"
    opening_available = CAPITAL
    unsupported: Mapping[Failure, str] = _UNSUPPORTED

    def __init__(self, state_path: Path) -> None:
        self.broker = PaperBroker(state_path, capital=CAPITAL, tick_seconds=0, seed=7, today=TODAY)
        self.option = ""
        self.untraded_option = ""

    async def start(self) -> None:
        """Pick the two NIFTY options from the built-in list (strikes follow the reference spot)."""
        options = [
            i
            for i in await self.broker.instruments()
            if i.kind is InstrumentKind.CALL and i.underlying == "NIFTY"
        ]
        self.option = next(i.key for i in options if has_traded(i))
        self.untraded_option = next(i.key for i in options if not has_traded(i))
        await self.login()

    async def login(self) -> SessionInfo:
        return await self.broker.login()

    async def fill(self, order_id: str) -> None:
        order = next(o for o in await self.broker.orders() if o.order_id == order_id)
        self.broker.set_price(order.key, order.price)

    async def holding(self) -> tuple[str, int]:
        """Buy 3 for delivery at the LTP: a marketable limit fills at once, and CNC holds it."""
        instrument = next(i for i in await self.broker.instruments() if i.key == self.equity)
        ltp = (await self.broker.quotes([instrument]))[self.equity].ltp
        assert ltp is not None
        request = OrderRequest(
            instrument, Side.BUY, 3, OrderType.LIMIT, ltp, Product.CNC, "CTHOLDING"
        )
        await self.broker.place_order(request)
        return self.equity, 3

    async def arm(self, failure: Failure) -> Expect:
        if failure is Failure.REJECTED:
            return Expect()  # paper's refusals carry no broker code
        raise AssertionError(f"paper cannot arm {failure}: {self.unsupported[failure]}")
