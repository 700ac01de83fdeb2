"""Daily limits end to end (issue 15): the real bot, the fake Telegram server, the paper broker.

A loss limit hit mid-day refuses entries before the card, lets exits through (on a normal
confirmation card showing the halt), pushes the admins once, and is lifted only by an admin's
confirmation card; the order-count and order-value limits refuse with their own sentence."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.e2e.harness import ADMIN, TRADER, BotHarness

HALT_PUSH = "Send /resume to lift"


@pytest.fixture
async def loss_bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with BotHarness(tmp_path, daily_max_loss="₹1,000") as h:
        yield h


@pytest.fixture
async def count_bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with BotHarness(tmp_path, daily_max_orders=2, max_order_value=50_000) as h:
        yield h


async def _filled(harness: BotHarness, user: int, count: int) -> None:
    """Wait for the `count`th fill push in `user`'s chat (so the next reply is not a push)."""
    await harness.telegram.wait_for(
        lambda t: len([m for m in t.messages(user) if "Filled</b>" in m.text]) >= count,
        what=f"fill push {count}",
    )


async def _halt_pushes(harness: BotHarness, at_least: int = 1) -> int:
    found = await harness.telegram.wait_for(
        lambda t: (n := sum(HALT_PUSH in m.plain for m in t.messages(ADMIN))) >= at_least and n,
        what="the admins' halt push",
    )
    assert isinstance(found, int)
    return found


async def test_a_loss_limit_hit_mid_day_halts_entries_until_an_admin_resumes(
    loss_bot: BotHarness,
) -> None:
    harness = loss_bot
    harness.broker.set_price("NSE:SBIN", Decimal("800"))
    card = await harness.say(TRADER, "/buy NSE:SBIN 100 @800 MIS")
    assert "Entries halted" not in card.plain
    await harness.confirm(TRADER, card)
    await _filled(harness, TRADER, 1)

    # Mid-day the price falls: 100 × (785 − 800) = ₹1,500 down, past the ₹1,000 limit.
    harness.broker.set_price("NSE:SBIN", Decimal("785"))
    refused = await harness.say(TRADER, "/buy NSE:INFY 1 @1498.30")
    assert refused.reply_markup is None  # no card
    assert "Refused: new entries are halted since " in refused.plain
    assert refused.plain.endswith(
        "IST: today's loss of ₹1,500.00 has reached the daily max loss of ₹1,000.00 (by "
        "₹500.00). Exits (orders that only reduce an open position) are still allowed; an "
        "admin can lift the halt with /resume."
    )
    again = await harness.say(TRADER, "/buy NSE:INFY 1 @1498.30")
    assert again.plain == refused.plain
    assert await _halt_pushes(harness) == 1
    [push] = [m for m in harness.telegram.messages(ADMIN) if HALT_PUSH in m.plain]
    assert "Entries halted on PAPER" in push.plain and "(by ₹500.00)" in push.plain
    assert all(HALT_PUSH not in m.plain for m in harness.telegram.messages(TRADER))

    # An exit goes through, on a normal card that shows the halt.
    exit_card = await harness.say(TRADER, "/sell NSE:SBIN 50 @785 MIS")
    assert "SELL 50 NSE:SBIN" in exit_card.plain and "Entries halted" in exit_card.plain
    await harness.confirm(TRADER, exit_card)
    await _filled(harness, TRADER, 2)
    # Selling more than is left long would open a short: an entry, refused.
    flip = await harness.say(TRADER, "/sell NSE:SBIN 60 @785 MIS")
    assert flip.reply_markup is None and "halted" in flip.plain

    pnl = await harness.say(TRADER, "/pnl")
    assert "NSE:SBIN MIS +50 @ 800.00, LTP 785.00" in pnl.plain
    assert "realised -₹750.00 · unrealised -₹750.00" in pnl.plain
    assert "Total -₹1,500.00 (realised -₹750.00, unrealised -₹750.00)" in pnl.plain

    session = await harness.say(ADMIN, "/session")
    assert "Entries halted since" in session.plain and "daily max loss hit" in session.plain
    limits = await harness.say(TRADER, "/limits")
    assert "Daily max loss: ₹1,000.00 · today's P&L -₹1,500.00" in limits.plain

    # Only an admin resumes, and only through the confirmation card.
    refused_resume = await harness.say(TRADER, "/resume")
    assert refused_resume.plain == "Your role (trader) cannot do this; it needs admin access."
    resume_card = await harness.say(ADMIN, "/resume")
    assert "Resume new entries?" in resume_card.plain
    resume = harness.button(resume_card, "Resume")
    trader_tap = await harness.tap(TRADER, resume_card, resume)
    assert trader_tap["text"] == "Your role (trader) cannot do this; it needs admin access."
    still = await harness.say(TRADER, "/buy NSE:INFY 1 @1498.30")
    assert "halted" in still.plain and still.reply_markup is None
    admin_tap = await harness.tap(ADMIN, resume_card, resume)
    assert admin_tap["text"] == "Entries resumed"
    resumed = await harness.telegram.wait_for_edit(
        ADMIN, resume_card.message_id, lambda t: "Entries resumed" in t
    )
    assert resumed.reply_markup is None
    late = await harness.tap(ADMIN, resume_card, resume)
    assert late["text"] == "This halt is no longer in force; nothing was changed."

    # Entries work again, on a card without the halt; still one push in all.
    entry = await harness.say(TRADER, "/buy NSE:INFY 1 @1498.30")
    assert "BUY 1 NSE:INFY" in entry.plain and "Entries halted" not in entry.plain
    await harness.confirm(TRADER, entry)
    assert await _halt_pushes(harness) == 1


async def test_order_count_and_order_value_limits_refuse_with_their_sentence(
    count_bot: BotHarness,
) -> None:
    harness = count_bot
    big = await harness.say(TRADER, "/buy NSE:SBIN 100 @700")
    assert big.reply_markup is None
    assert big.plain == (
        "Refused: this order is worth ₹70,000.00, ₹20,000.00 above the max value of one "
        "order, ₹50,000.00. Nothing was sent."
    )
    for _ in range(2):  # two orders that wait in the book (700 is below the LTP)
        card = await harness.say(TRADER, "/buy NSE:SBIN 1 @700")
        await harness.confirm(TRADER, card)
    third = await harness.say(TRADER, "/buy NSE:SBIN 1 @700")
    assert third.reply_markup is None
    assert "2 orders were placed today, the daily max is 2. Exits" in third.plain
    # No position to reduce: a sell opens a short, so it is an entry too.
    short = await harness.say(TRADER, "/sell NSE:SBIN 1 @900 MIS")
    assert short.reply_markup is None and "halted" in short.plain
    assert await _halt_pushes(harness) == 1

    not_admin = await harness.say(TRADER, "/limits orders 5")
    assert not_admin.plain == "Only an admin can change the daily limits."
    bad = await harness.say(ADMIN, "/limits orders many")
    assert bad.plain.startswith("'many' is not a whole number of orders; give 0 or off")
    changed = await harness.say(ADMIN, "/limits orders 5")
    assert "Daily max orders: 5 · 2 today" in changed.plain
    assert "Max value of one order: ₹50,000.00" in changed.plain
    assert "Entries halted" in changed.plain  # a new limit does not lift the halt
    card = await harness.say(ADMIN, "/resume")
    await harness.tap(ADMIN, card, harness.button(card, "Resume"))
    await harness.telegram.wait_for_edit(ADMIN, card.message_id, lambda t: "resumed" in t)
    fine = await harness.say(TRADER, "/buy NSE:SBIN 1 @700")
    assert fine.reply_markup is not None and "BUY 1 NSE:SBIN" in fine.plain


async def test_a_card_shown_before_the_halt_cannot_send_its_entry_after(
    loss_bot: BotHarness,
) -> None:
    harness = loss_bot
    harness.broker.set_price("NSE:SBIN", Decimal("800"))
    await harness.confirm(TRADER, await harness.say(TRADER, "/buy NSE:SBIN 100 @800 MIS"))
    await _filled(harness, TRADER, 1)
    early = await harness.say(TRADER, "/buy NSE:INFY 1 @1498.30")
    assert early.reply_markup is not None  # shown while entries were open
    harness.broker.set_price("NSE:SBIN", Decimal("785"))
    assert "halted" in (await harness.say(TRADER, "/buy NSE:TCS 1 @3105.40")).plain
    answer = await harness.tap(TRADER, early, harness.confirm_button(early))
    assert answer["text"].startswith("Refused: new entries are halted since ")
    assert [o.key for o in await harness.broker.orders()] == ["NSE:SBIN"]
    # An exit still goes.
    exit_card = await harness.say(TRADER, "/sell NSE:SBIN 100 @785 MIS")
    await harness.confirm(TRADER, exit_card)


async def test_each_account_has_its_own_limits_and_halt(tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(
        '[accounts.main]\nbroker = "paper"\nlabel = "Main"\n\n'
        '[accounts.mom]\nbroker = "paper"\nlabel = "Mom"\n'
    )
    async with BotHarness(tmp_path, accounts_file=accounts, daily_max_orders=1) as harness:
        card = await harness.say(TRADER, "/buy main NSE:SBIN 1 @700")
        await harness.confirm(TRADER, card)
        refused = await harness.say(TRADER, "/buy main NSE:SBIN 1 @700")
        assert "1 orders were placed today, the daily max is 1" in refused.plain
        other = await harness.say(TRADER, "/buy mom NSE:SBIN 1 @700")
        assert other.reply_markup is not None and "Entries halted" not in other.plain
        await _halt_pushes(harness)
        [push] = [m for m in harness.telegram.messages(ADMIN) if HALT_PUSH in m.plain]
        assert "Entries halted on Main" in push.plain
        nothing = await harness.say(ADMIN, "/resume mom")
        assert nothing.plain == "New entries are not halted; there is nothing to resume."
        resume_card = await harness.say(ADMIN, "/resume main")
        assert harness.button(resume_card, "Resume").endswith("@main")
        await harness.tap(ADMIN, resume_card, harness.button(resume_card, "Resume"))
        await harness.telegram.wait_for_edit(
            ADMIN, resume_card.message_id, lambda t: "resumed" in t
        )
        again = await harness.say(TRADER, "/buy main NSE:SBIN 1 @700")
        assert again.reply_markup is not None
