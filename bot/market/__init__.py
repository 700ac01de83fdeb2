"""What the market and the account look like: the instrument index (search, resolve), kept in
step with the broker's master, quotes and portfolio reads, each through the account."""

from bot.market.follow import IndexFollower
from bot.market.instruments import EXCHANGES, InstrumentIndex
from bot.market.portfolio import Portfolio, QuoteLine, SearchResult

__all__ = [
    "EXCHANGES",
    "IndexFollower",
    "InstrumentIndex",
    "Portfolio",
    "QuoteLine",
    "SearchResult",
]
