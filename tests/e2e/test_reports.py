"""/search, /quote and /positions as the trader reads them: ranked and counted matches, a
quote's age and change, amounts in Indian grouping with a P&L total."""

from __future__ import annotations

import re
from decimal import Decimal

from tests.e2e.harness import ADMIN, BotHarness

STRIKE = re.compile(r"NFO:NIFTY\d{2}[A-Z]{3}\d{2}(\d+)CE")


async def test_search_ranks_strikes_near_the_money_and_says_it_cut_the_list(
    harness: BotHarness,
) -> None:
    assert harness.broker is not None
    harness.broker.set_price("NSE_INDEX:NIFTY", Decimal("25000.00"))
    reply = await harness.say(ADMIN, "/search nifty ce")
    strikes = [int(s) for s in STRIKE.findall(reply.plain)]
    assert len(strikes) == 10
    assert strikes[0] == 25000 and all(abs(s - 25000) <= 250 for s in strikes), strikes
    assert re.search(r"Showing 10 of \d+; add a strike or CE/PE to narrow\.", reply.plain)
    narrow = await harness.say(ADMIN, "/search sbin")
    assert "Showing" not in narrow.plain and "NSE:SBIN" in narrow.plain


async def test_quote_shows_its_age_and_the_change_from_the_close(harness: BotHarness) -> None:
    assert harness.broker is not None
    harness.broker.set_price("NSE:SBIN", Decimal("824.65"))  # the close is 812.35
    reply = await harness.say(ADMIN, "/quote NSE:SBIN")
    assert "NSE:SBIN 824.65 (+12.30, +1.5 %)" in reply.plain
    assert re.search(r"as of \d{2}:\d{2}:\d{2} IST, \d+ s ago", reply.plain), reply.plain


async def test_positions_and_funds_read_in_rupees(harness: BotHarness) -> None:
    assert harness.broker is not None
    card = await harness.say(ADMIN, "/buy NSE:SBIN 10 @812.35 MIS")
    await harness.confirm(ADMIN, card)
    harness.broker.set_price("NSE:SBIN", Decimal("800.00"))
    positions = await harness.say(ADMIN, "/positions")
    assert "NSE:SBIN MIS: 10 @ 812.35 · LTP 800.00 · P&L -₹123.50" in positions.plain
    assert "Total P&L -₹123.50" in positions.plain
    funds = await harness.say(ADMIN, "/funds")
    assert re.search(r"Total: ₹\d{1,2},\d{2},\d{3}\.\d{2}", funds.plain), funds.plain
