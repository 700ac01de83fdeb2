"""Typing as people type on a phone: prices with a space or ₹, lots, a forgotten slash, order
numbers in lower case, absurd numbers: the real bot, the fake Telegram server, paper."""

from __future__ import annotations

from bot.market import InstrumentIndex
from tests.e2e.harness import ADMIN, BotHarness


async def _nifty_call(harness: BotHarness) -> str:
    assert harness.broker is not None
    option = InstrumentIndex(await harness.broker.instruments()).example_option()
    assert option is not None
    return option.key


async def test_lots_and_a_rupee_price_after_a_space(harness: BotHarness) -> None:
    option = await _nifty_call(harness)
    card = await harness.say(ADMIN, f"/buy {option} 2 lots @ ₹120")
    assert f"BUY 130 {option}" in card.plain
    assert "2 lots of 65 (130 units)" in card.plain and "Limit order at 120" in card.plain
    short = await harness.say(ADMIN, f"/sell {option} 1L @₹120.50")
    assert f"SELL 65 {option}" in short.plain and "1 lot of 65 (65 units)" in short.plain


async def test_lots_of_an_equity_are_refused(harness: BotHarness) -> None:
    reply = await harness.say(ADMIN, "/buy NSE:SBIN 2 lots")
    assert "NSE:SBIN trades in shares, not lots" in reply.plain
    assert reply.reply_markup is None


async def test_a_command_without_its_slash_gets_a_suggestion(harness: BotHarness) -> None:
    reply = await harness.say(ADMIN, "buy NSE:SBIN 1")
    assert reply.plain == "Did you mean /buy NSE:SBIN 1? Commands start with /."
    other = await harness.say(ADMIN, "good morning")
    assert "I don't know that command" in other.plain


async def test_order_numbers_match_in_any_case(harness: BotHarness) -> None:
    card = await harness.say(ADMIN, "/buy NSE:SBIN 10 @700")
    await harness.confirm(ADMIN, card)
    assert harness.broker is not None
    [order] = await harness.broker.orders()
    typed = order.order_id.lower()
    assert typed != order.order_id
    cancel = await harness.say(ADMIN, f"/cancel {typed}")
    assert "Confirm cancel" in cancel.plain and order.order_id in cancel.plain
    modify = await harness.say(ADMIN, f"/modify {typed} @701")
    assert "Confirm modify" in modify.plain and "700.00 → 701.00" in modify.plain


async def test_a_quantity_of_thousands_of_digits_is_refused_in_one_sentence(
    harness: BotHarness,
) -> None:
    reply = await harness.say(ADMIN, "/buy NSE:SBIN " + "9" * 5000)
    assert "is too large for a quantity" in reply.plain
    assert "went wrong" not in reply.plain and len(reply.plain) < 300
    price = await harness.say(ADMIN, "/buy NSE:SBIN 1 @" + "9" * 5000)
    assert "is too large for a price" in price.plain
