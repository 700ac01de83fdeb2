"""What the market and the account look like: the instrument index (search, resolve), kept in
step with the broker's master, quotes and portfolio reads (the day's P&L among them), each
through the account, and price alerts (the pure engine and the watch that feeds it prices and
saves its state)."""

from bot.market.alert_watch import AlertWatch
from bot.market.alerts import Alert, AlertEngine, AlertKind
from bot.market.follow import IndexFollower
from bot.market.instruments import EXCHANGES, InstrumentIndex
from bot.market.pnl import DayPnL, PositionLine, day_pnl
from bot.market.portfolio import Portfolio, QuoteLine, SearchResult

__all__ = [
    "EXCHANGES",
    "Alert",
    "AlertEngine",
    "AlertKind",
    "AlertWatch",
    "DayPnL",
    "IndexFollower",
    "InstrumentIndex",
    "Portfolio",
    "PositionLine",
    "QuoteLine",
    "SearchResult",
    "day_pnl",
]
