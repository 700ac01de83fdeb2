"""When a quote is too old to act on: the one rule shared by everything that acts on a price.

A market order is priced from the LTP (`bot.orders.policy`) and a price alert fires from it
(`bot.market.alerts`); both refuse a quote older than `LTP_MAX_AGE_SECONDS`, and both measure
its age the same way, so a feed that stopped can neither price an order nor fire an alert.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from brokers.models import Quote


def stale_age(quote: Quote, now: datetime, max_age: timedelta) -> timedelta | None:
    """The quote's age when it is older than `max_age`, else None. An undated quote is not
    stale by this test (its age is unknown): each caller says what an undated quote is worth."""
    if quote.at is None or now - quote.at <= max_age:
        return None
    return now - quote.at


def oldest_fresh(now: datetime, max_age: timedelta) -> datetime:
    """The earliest quote time `stale_age` accepts at `now`: for a caller that checks many
    quotes at one moment (the alert engine), one comparison per quote instead of a subtraction."""
    return now - max_age
