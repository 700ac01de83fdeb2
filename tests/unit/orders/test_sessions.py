"""How an order may go at a given moment: regular, offered as an AMO, or refused in one sentence."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

import pytest

from bot.errors import UserError
from bot.market.hours import IST, MarketHours, Phase
from bot.orders.policy import OrderTicket
from bot.orders.sessions import SessionCheck, check_session
from brokers.models import AmoWindow, Instrument, InstrumentKind, OrderType, Quote, Side

SBIN = Instrument("NSE", "SBIN", "SBI", InstrumentKind.EQUITY, Decimal("0.05"))
WINDOW = AmoWindow(time(15, 45), time(8, 57))
HOURS = MarketHours()
LIMIT = OrderTicket(Side.BUY, "NSE:SBIN", 10, OrderType.LIMIT, price=Decimal("800"))
MARKET = OrderTicket(Side.BUY, "NSE:SBIN", 10, OrderType.MARKET)
QUOTE = Quote("NSE:SBIN", Decimal("808.30"))
NIGHT = datetime(2026, 12, 1, 21, 0, tzinfo=IST)


def check(
    ticket: OrderTicket, when: datetime, window: AmoWindow | None = WINDOW
) -> SessionCheck | None:
    return check_session(HOURS, SBIN, ticket, QUOTE, when, broker="kotak", amo_window=window)


def test_out_of_hours_a_limit_order_is_offered_as_an_amo() -> None:
    session = check(LIMIT, NIGHT)
    assert session is not None and session.amo_window == WINDOW


def test_a_broker_without_amos_refuses_in_one_plain_sentence() -> None:
    with pytest.raises(UserError) as caught:
        check(LIMIT, NIGHT, window=None)
    assert caught.value.reason == "market_closed"
    assert caught.value.text == (
        "NSE/BSE cash is closed (after the close); it opens Wed 02 Dec at 09:15 IST. Kotak "
        "takes no after-market orders through the bot, so nothing can be sent now; send the "
        "order again when the market is open."
    )


def test_a_market_order_out_of_hours_needs_a_limit_price() -> None:
    with pytest.raises(UserError) as caught:
        check(MARKET, NIGHT)
    assert caught.value.reason == "amo_limit_only"
    assert "/buy NSE:SBIN 10 @808.30 (last price 808.30)" in caught.value.text


def test_in_hours_and_with_hours_off_nothing_changes() -> None:
    day = datetime(2026, 12, 1, 11, 0, tzinfo=IST)
    session = check(MARKET, day)
    assert session is not None and session.state.phase is Phase.OPEN
    assert not session.amo
    none = check_session(None, SBIN, MARKET, QUOTE, NIGHT, broker="kotak", amo_window=WINDOW)
    assert none is None
