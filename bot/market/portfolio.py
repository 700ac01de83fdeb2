"""Read-only operations: order book, trades, positions, holdings, funds, quotes, search.

Transport-free, like the desk: a handler calls one method and renders the typed result. Reads
are not IP-gated (brokers check only place/modify/cancel), so these keep working when orders are
blocked.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TypeVar

from bot.accounts import Account
from bot.explain import explain
from bot.market.instruments import InstrumentIndex
from bot.market.pnl import DayPnL, day_pnl
from brokers.errors import BrokerError
from brokers.models import Funds, Holding, Instrument, Order, Position, Quote, Trade

T = TypeVar("T")

log = logging.getLogger(__name__)

SHOWN = 10  # a phone screen of results
RANK_POOL = 1000  # matches ranked (and counted) at most; nearest expiries come first in it
MAX_UNDERLYINGS = 3  # underlyings priced to rank strikes by, in one quotes call
# Where an option's or future's underlying is listed, most likely first.
_UNDERLYING_EXCHANGES = ("NSE_INDEX", "BSE_INDEX", "NSE", "BSE")


@dataclass(frozen=True, slots=True)
class SearchResult:
    """What /search shows: the best `instruments`, how many matched in all (`total`, a floor
    when `more`: counting stopped at the ranking pool)."""

    instruments: tuple[Instrument, ...]
    total: int
    more: bool


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

    async def pnl(self) -> DayPnL:
        """Today's realised and unrealised P&L, per position and in total (/pnl)."""
        return day_pnl(await self.positions())

    async def holdings(self) -> list[Holding]:
        return await _read(self._account.holdings)

    async def funds(self) -> Funds:
        return await _read(self._account.funds)

    async def quotes(self, keys: list[str]) -> list[QuoteLine]:
        instruments = [self._index.resolve(k) for k in keys]
        quotes = await _read(lambda: self._account.quotes(instruments))
        return [QuoteLine(i, quotes.get(i.key)) for i in instruments]

    async def search(self, text: str) -> SearchResult:
        """The matches, nearest expiry first and, within an expiry, the strikes nearest the
        underlying's last price first: `/search nifty ce` shows the contracts a trader is
        looking for, not the deep ones that happen to sort first. Without a price (the quote
        failed, or the underlying is not listed) the index's order stands."""
        found = await self._index.search(text, limit=RANK_POOL)
        spots = await self._spots(found)
        ranked = sorted(range(len(found)), key=lambda n: (*_rank(found[n], spots), n))
        shown = tuple(found[n] for n in ranked[:SHOWN])
        return SearchResult(shown, len(found), len(found) == RANK_POOL)

    async def _spots(self, found: Sequence[Instrument]) -> dict[str, Decimal]:
        """Last prices of the first few underlyings of the options in `found`, by root."""
        roots = list(
            dict.fromkeys(i.underlying for i in found if i.kind.is_option and i.underlying)
        )
        underlyings = {}
        for root in roots[:MAX_UNDERLYINGS]:
            for exchange in _UNDERLYING_EXCHANGES:
                if (inst := self._index.get(f"{exchange}:{root}")) is not None:
                    underlyings[root] = inst
                    break
        if not underlyings:
            return {}
        try:
            quotes = await self._account.quotes(list(underlyings.values()))
        except BrokerError:
            log.info("no underlying price to rank search results by", exc_info=True)
            return {}
        return {
            root: ltp
            for root, inst in underlyings.items()
            if (q := quotes.get(inst.key)) is not None and (ltp := q.ltp) is not None
        }


def _rank(inst: Instrument, spots: dict[str, Decimal]) -> tuple[date, Decimal]:
    spot = spots.get(inst.underlying or "")
    distance = (
        abs(inst.strike - spot) if spot is not None and inst.strike is not None else Decimal(0)
    )
    return inst.expiry or date.min, distance
