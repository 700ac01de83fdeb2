"""Market hours: the trading sessions of each segment (NSE/BSE cash and F&O, currency, MCX), the
pre-open call auction, the exchange holidays (shipped per year as `holidays/<year>.toml`, with
their source) and whether a broker's after-market-order window is open. The bot asks it before
an order card is made, so out of hours an order is offered as an AMO or refused, never queued
silently."""

from bot.market.hours._hours import IST, MarketHours, MarketState, Phase

__all__ = ["IST", "MarketHours", "MarketState", "Phase"]
