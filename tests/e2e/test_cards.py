"""Cards that tell the truth (issue 11): a card follows its order to the end (a rejection right
after the broker took it, a fill), says what it is worth before the tap, refuses before the tap
what the exchange would refuse after it, ends in a final state that keeps the order when it
expires or the bot restarts, and never shows an exception's class name."""

from __future__ import annotations

import socket
import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from brokers.models import OrderStatus
from brokers.paper import PaperBroker
from tests.e2e.harness import ADMIN, BotHarness
from tests.e2e.test_kotak import kotak_settings, parts  # noqa: F401 - parts is a fixture
from tests.fakes.ip_echo import FakeIPEcho
from tests.fakes.kotak_sim import KotakSimulator
from tests.fakes.telegram_server import StoredMessage
from tests.fakes.totp_clock import SkipAheadClock
from tests.words import class_names


def _expire_now(harness: BotHarness) -> None:
    assert harness.settings is not None
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    with sqlite3.connect(harness.settings.database_path) as db:
        db.execute("UPDATE intents SET expires_at = ? WHERE status = 'PENDING'", (past,))


def _no_push_with(harness: BotHarness, user: int, card: StoredMessage, words: str) -> bool:
    """True when no message but the card itself says `words`."""
    return not any(
        words in m.text for m in harness.telegram.messages(user) if m.message_id != card.message_id
    )


async def _card(h: BotHarness, command: str) -> StoredMessage:
    """The card `command` brings (admin pushes such as "Orders are open again" may come
    first)."""
    before = len(h.telegram.messages(ADMIN))
    h.telegram.send_text(ADMIN, command)
    card: StoredMessage = await h.telegram.wait_for(
        lambda t: next((m for m in t.messages(ADMIN)[before:] if m.reply_markup), None),
        timeout=10,
        what="a confirmation card",
    )
    return card


# -- 1. the outcome edits the card ---------------------------------------------------------------


async def test_a_rejection_after_the_broker_took_the_order_edits_the_card(
    harness: BotHarness,
) -> None:
    """The paper RMS takes the order (it has a number) and rejects it at once: the card says
    "Rejected" with the reason, with no "Placed" left on it and no separate message."""
    harness.broker.set_price("NSE:SBIN", Decimal("808.30"))
    card = await harness.say(ADMIN, "/buy NSE:SBIN 5000 @810")
    await harness.tap(ADMIN, card, harness.confirm_button(card))
    rejected = await harness.telegram.wait_for_edit(
        ADMIN, card.message_id, lambda t: "Rejected" in t
    )
    [order] = await harness.broker.orders()
    assert order.status is OrderStatus.REJECTED
    text = rejected.plain
    assert text.startswith("❌ Rejected BUY\nBUY 5000 NSE:SBIN")
    assert f"❌ Rejected: order {order.order_id}: RMS: insufficient funds" in text
    assert "Placed" not in text and "Confirm BUY" not in text and ".." not in text
    assert rejected.reply_markup is None
    assert _no_push_with(harness, ADMIN, card, "Rejected")


async def test_kotak_rejection_and_fill_edit_their_cards_with_one_full_stop(
    tmp_path: Path,
    parts: tuple[KotakSimulator, FakeIPEcho],  # noqa: F811 - the fixture imported above
    totp_clock: SkipAheadClock,
) -> None:
    """Kotak accepts, then its RMS rejects (the reason ends in a full stop); another order
    fills. Each card changes its title to the outcome."""
    sim, echo = parts
    async with BotHarness(tmp_path, totp_clock=totp_clock, **kotak_settings(sim, echo)) as h:
        card = await _card(h, "/buy NSE:SBIN 10 @800")
        placed = await h.confirm(ADMIN, card)
        assert placed.plain.startswith("✅ Placed BUY\n")
        [number] = sim.orders
        reason = "RMS:Margin Exceeds,Required:8000.00, Available:0.00 for entity account."
        sim.reject(number, reason)
        rejected = await h.telegram.wait_for_edit(ADMIN, card.message_id, lambda t: "❌" in t)
        assert rejected.plain.startswith("❌ Rejected BUY\n")
        assert f"❌ Rejected: order {number}: {reason}" in rejected.plain
        assert ".." not in rejected.plain and "✅ Placed" not in rejected.plain
        assert _no_push_with(h, ADMIN, card, "Rejected")

        card = await _card(h, "/buy NSE:SBIN 5 @800")
        await h.confirm(ADMIN, card)
        second = next(no for no in sim.orders if no != number)
        sim.fill(second, price="799.95")
        filled = await h.telegram.wait_for_edit(ADMIN, card.message_id, lambda t: "Filled" in t)
        assert filled.plain.startswith("✅ Filled BUY\n")
        assert f"order {second} · filled at 799.95" in filled.plain
        await h.telegram.wait_for(  # a fill comes any time later: it is pushed as well
            lambda t: any("Filled" in m.text for m in t.messages(ADMIN)[-3:]), what="a fill push"
        )


# -- 2. and 3. refused before the card -------------------------------------------------------------


async def test_a_stop_on_the_wrong_side_of_the_ltp_is_refused_with_the_ltp(
    harness: BotHarness,
) -> None:
    harness.broker.set_price("NSE:SBIN", Decimal("807"))
    sell = await harness.say(ADMIN, "/sell NSE:SBIN 1 sl=900")
    assert "trigger must be below the LTP 807.00 of NSE:SBIN; 900.00 is not" in sell.plain
    buy = await harness.say(ADMIN, "/buy NSE:SBIN 1 sl=800 @801")
    assert "trigger must be above the LTP 807.00 of NSE:SBIN; 800.00 is not" in buy.plain
    assert sell.reply_markup is None and buy.reply_markup is None
    assert await harness.broker.orders() == []


async def test_a_modified_stop_market_trigger_gets_its_limit_derived_again(
    harness: BotHarness,
) -> None:
    """`/buy … sl=820` went out as an SL with its limit derived from the trigger; a new
    trigger moves the limit with it, and the card lists only what changes."""
    harness.broker.set_price("NSE:SBIN", Decimal("807"))
    card = await harness.say(ADMIN, "/buy NSE:SBIN 1 sl=820")
    assert "Stop-loss: trigger 820.00, limit 824.10" in card.plain
    await harness.confirm(ADMIN, card)
    [order] = await harness.broker.orders()
    assert order.status is OrderStatus.TRIGGER_PENDING

    card = await harness.say(ADMIN, f"/modify {order.order_id} sl=830")
    assert "Trigger 820.00 → 830.00" in card.plain and "Price 824.10 → 834.15" in card.plain
    assert "Quantity" not in card.plain
    await harness.confirm(ADMIN, card, "Modified")
    [modified] = await harness.broker.orders()
    assert (modified.trigger_price, modified.price) == (Decimal(830), Decimal("834.15"))

    wrong = await harness.say(ADMIN, f"/modify {order.order_id} sl=805")
    assert "trigger must be above the LTP 807.00" in wrong.plain and wrong.reply_markup is None


async def test_a_limit_outside_the_circuit_band_is_refused_with_the_band(
    harness: BotHarness,
) -> None:
    sbin = next(i for i in await harness.broker.instruments() if i.key == "NSE:SBIN")
    quote = (await harness.broker.quotes([sbin]))["NSE:SBIN"]
    assert quote.upper_circuit is not None and quote.lower_circuit is not None
    refused = await harness.say(ADMIN, "/buy NSE:SBIN 1 @1000")
    assert "The limit price 1000.00 is outside today's price band of NSE:SBIN" in refused.plain
    assert f"({quote.lower_circuit:.2f} to {quote.upper_circuit:.2f})" in refused.plain
    assert refused.reply_markup is None and await harness.broker.orders() == []


# -- 4. what the order is worth --------------------------------------------------------------------


async def test_a_paper_card_shows_value_ltp_and_margin(harness: BotHarness) -> None:
    harness.broker.set_price("NSE:SBIN", Decimal("807"))
    card = await harness.say(ADMIN, "/buy NSE:SBIN 10 @800")
    assert "Limit order at 800" in card.plain and "LTP 807" in card.plain
    assert "Value ₹8,000.00" in card.plain
    assert "Margin ₹8,000.00 needed, ₹10,00,000.00 available" in card.plain
    short = await harness.say(ADMIN, "/buy NSE:SBIN 5000 @800")
    assert "⚠️ Margin ₹40,00,000.00 needed, ₹10,00,000.00 available: not enough" in short.plain
    assert short.reply_markup is not None  # the broker decides; the card only warns


async def test_a_kotak_card_shows_the_brokers_margin_and_a_slow_check_does_not_hold_it(
    tmp_path: Path,
    parts: tuple[KotakSimulator, FakeIPEcho],  # noqa: F811 - the fixture imported above
    totp_clock: SkipAheadClock,
) -> None:
    sim, echo = parts
    async with BotHarness(tmp_path, totp_clock=totp_clock, **kotak_settings(sim, echo)) as h:
        card = await _card(h, "/buy NSE:SBIN 10 @800")
        [check] = sim.calls_of("check-margin")
        assert check.jdata is not None and check.jdata["qty"] == "10"
        assert "Value ₹8,000.00" in card.plain and "LTP 812.35" in card.plain
        assert "Margin ₹8,000.00 needed" in card.plain and "available" in card.plain

        sim.hang_seconds = 30.0
        sim.fail_next("check-margin", "timeout")  # the broker never answers the check
        slow = await _card(h, "/buy NSE:SBIN 10 @800")
        assert "Value ₹8,000.00" in slow.plain and "Margin" not in slow.plain
        assert slow.reply_markup is not None


# -- 5. and 6. expiry, and buttons that say what they do ------------------------------------------


async def test_the_sweep_ends_an_expired_card_over_its_order(harness: BotHarness) -> None:
    card = await harness.say(ADMIN, "/buy NSE:INFY 1 @1400")
    confirm = harness.confirm_button(card)
    _expire_now(harness)
    ended = await harness.telegram.wait_for_edit(
        ADMIN, card.message_id, lambda t: "Expired" in t, timeout=15
    )
    assert ended.plain.startswith("⌛ Expired: BUY\nBUY 1 NSE:INFY · CNC\nLimit order at 1400")
    assert "nothing was sent" in ended.plain and ended.reply_markup is None
    late = await harness.tap(ADMIN, card, confirm)
    assert "expired" in late["text"] and "already answered" not in late["text"]
    assert await harness.broker.orders() == []


async def test_a_late_tap_ends_the_expired_card_before_the_sweep(harness: BotHarness) -> None:
    card = await harness.say(ADMIN, "/buy NSE:INFY 1 @1400")
    buttons = [harness.button(card, "Cancel"), harness.button(card, "Confirm")]
    _expire_now(harness)
    for data in buttons:  # either button, and again
        answer = await harness.tap(ADMIN, card, data)
        assert "expired" in answer["text"] and "already answered" not in answer["text"]
    ended = harness.telegram.message(ADMIN, card.message_id)
    assert ended.plain.startswith("⌛ Expired: BUY\nBUY 1 NSE:INFY")
    assert ended.reply_markup is None and await harness.broker.orders() == []


async def test_the_cancel_card_buttons_say_what_they_do(harness: BotHarness) -> None:
    card = await harness.say(ADMIN, "/buy NSE:SBIN 1 @700")
    await harness.confirm(ADMIN, card)
    [order] = await harness.broker.orders()
    card = await harness.say(ADMIN, f"/cancel {order.order_id}")
    assert card.reply_markup is not None
    labels = [b["text"] for row in card.reply_markup["inline_keyboard"] for b in row]
    assert labels == ["🗑 Cancel order", "↩️ Keep order"]
    answer = await harness.tap(ADMIN, card, harness.button(card, "Keep order"))
    assert answer["text"] == "Order kept"
    kept = await harness.telegram.wait_for_edit(ADMIN, card.message_id)
    assert kept.plain.startswith("↩️ Order kept\n") and kept.reply_markup is None
    [still] = await harness.broker.orders()
    assert still.status is OrderStatus.OPEN


# -- 7. after a restart --------------------------------------------------------------------------


async def test_a_cancel_in_flight_at_a_restart_loses_its_buttons_and_shows_the_outcome(
    harness: BotHarness,
) -> None:
    """The bot stopped between the broker taking the cancel and the card's edit: at start-up
    the card says the book is being checked, then shows what the book says."""
    card = await harness.say(ADMIN, "/buy NSE:SBIN 1 @700")
    await harness.confirm(ADMIN, card)
    [order] = await harness.broker.orders()
    cancel = await harness.say(ADMIN, f"/cancel {order.order_id}")
    await harness.stop()
    assert harness.settings is not None
    with sqlite3.connect(harness.settings.database_path) as db:
        db.execute("UPDATE intents SET status = 'SENDING' WHERE action = 'cancel'")
    await harness.broker.cancel_order(order.order_id)  # it reached the broker

    harness.broker = PaperBroker(harness.settings.paper_state_path, tick_seconds=0, seed=7)
    await harness.start()
    checking = await harness.telegram.wait_for_edit(ADMIN, cancel.message_id, lambda t: "⏳" in t)
    assert "⏳ Checking the cancel" in checking.edit_texts[0]
    assert "restarted while sending" in checking.edit_texts[0]
    done = await harness.telegram.wait_for_edit(ADMIN, cancel.message_id, lambda t: "✅" in t)
    assert done.plain.startswith("✅ Cancel sent\n") and done.reply_markup is None


# -- 8. errors in words --------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def test_session_errors_are_words_and_no_class_name_reaches_the_chat(
    tmp_path: Path,
) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/"
    async with BotHarness(tmp_path, ip_check_urls=url) as h:
        status = await h.say(ADMIN, "/session")
        assert "Last error: could not connect to 127.0.0.1" in status.plain
        await h.say(ADMIN, "/buy NSE:SBIN 1 @700")
        for message in h.telegram.messages(ADMIN):
            for text in (message.plain, *message.edit_texts):
                assert class_names(text) == [], text
