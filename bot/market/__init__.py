"""What the market and the account look like: the instrument index (search, resolve), quotes and
portfolio reads, each through the account."""

from bot.market.instruments import EXCHANGES, InstrumentIndex
from bot.market.portfolio import Portfolio, QuoteLine

__all__ = ["EXCHANGES", "InstrumentIndex", "Portfolio", "QuoteLine"]
