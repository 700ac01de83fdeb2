"""Read-only operations: order book, trades, positions, holdings, funds, quotes, search.

Transport-free, like the desk: a handler calls one method and renders the typed result. Reads
are not IP-gated (brokers check only place/modify/cancel), so these keep working when orders are
blocked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from bot.accounts import Account
from bot.explain import explain
from bot.market.instruments import InstrumentIndex
from brokers.errors import BrokerError
from brokers.models import Funds, Holding, Instrument, Order, Position, Quote, Trade

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class QuoteLine:
    instrument: Instrument
    quote: Quote | None


async def _read(call: Callable[[], Awaitable[T]]) -> T:
    try:
        return await call()
    except BrokerError as exc:
        raise explain(exc) from None


class Portfolio:
    def __init__(self, account: Account, index: InstrumentIndex) -> None:
        self._account = account
        self._index = index

    async def orders(self) -> list[Order]:
        return await _read(self._account.orders)

    async def trades(self) -> list[Trade]:
        return await _read(self._account.trades)

    async def positions(self) -> list[Position]:
        return await _read(self._account.positions)

    async def holdings(self) -> list[Holding]:
        return await _read(self._account.holdings)

    async def funds(self) -> Funds:
        return await _read(self._account.funds)

    async def quotes(self, keys: list[str]) -> list[QuoteLine]:
        instruments = [self._index.resolve(k) for k in keys]
        quotes = await _read(lambda: self._account.quotes(instruments))
        return [QuoteLine(i, quotes.get(i.key)) for i in instruments]

    async def search(self, text: str) -> list[Instrument]:
        return await self._index.search(text)
