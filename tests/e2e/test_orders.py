"""Whole conversations: the real bot, the fake Telegram server, the paper broker."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from brokers.models import OrderStatus, OrderType
from tests.e2e.harness import ADMIN, STRANGER, TRADER, VIEWER, BotHarness
from tests.e2e.test_kotak import kotak_settings, parts  # noqa: F401 - parts is a fixture


async def test_start_help_and_menu(harness: BotHarness) -> None:
    reply = await harness.say(ADMIN, "/start")
    assert "paper" in reply.plain
    names = [c["command"] for c in harness.telegram.commands]
    assert names == [
        "start", "help", "buy", "sell", "modify", "cancel", "exitall", "orders", "trades",
        "positions", "holdings", "funds", "pnl", "quote", "search", "alert", "alerts",
        "session", "limits", "resume", "status", "account", "notify",
    ]  # fmt: skip
    help_text = (await harness.say(ADMIN, "/help")).plain
    for name in names:
        assert f"/{name}" in help_text
    assert "/buy NSE:SBIN 10 @812.5 MIS" in help_text
    viewer_help = (await harness.say(VIEWER, "/help")).plain
    assert "/buy" not in viewer_help and "/orders" in viewer_help


async def test_market_buy_is_confirmed_sent_as_protected_limit_and_fills(
    harness: BotHarness,
) -> None:
    harness.broker.set_price("NSE:SBIN", Decimal("808.30"))
    card = await harness.say(ADMIN, "/buy NSE:SBIN 10")
    assert "BUY 10 NSE:SBIN" in card.plain
    assert "812.35" in card.plain and "LTP 808.30" in card.plain
    assert "limit order" in card.plain
    assert harness.button(card, "Confirm").startswith("cf:")

    answer = await harness.tap(ADMIN, card, harness.button(card, "Confirm"))
    assert answer["text"] == "Sending…"
    edited = await harness.telegram.wait_for_edit(ADMIN, card.message_id, lambda t: "Placed" in t)
    assert edited.reply_markup is None
    [order] = await harness.broker.orders()
    assert order.order_type is OrderType.LIMIT and order.price == Decimal("812.35")
    assert order.order_id in edited.plain and order.tag.startswith("TB")

    fill = await harness.telegram.wait_for(
        lambda t: next((m for m in t.messages(ADMIN) if "Filled" in m.text), None),
        what="a fill notification",
    )
    assert "BUY 10 NSE:SBIN" in fill.plain and order.order_id in fill.plain
    push = await harness.telegram.wait_for(
        lambda t: next((m for m in t.messages(ADMIN) if "Filled</b>:" in m.text), None),
        what="the fill push",
    )
    assert f"(order {order.order_id})" in push.plain
    assert push.plain.endswith(".\nAccount PAPER · 📝 paper")  # the wiring stamps the account
    holdings = await harness.say(ADMIN, "/holdings")
    assert "NSE:SBIN: 10" in holdings.plain


async def test_cancel_button_sends_nothing(harness: BotHarness) -> None:
    card = await harness.say(ADMIN, "/buy NSE:SBIN 10 @700")
    answer = await harness.tap(ADMIN, card, harness.button(card, "Cancel"))
    assert answer["text"] == "Cancelled"
    edited = await harness.telegram.wait_for_edit(ADMIN, card.message_id)
    assert "Nothing was sent" in edited.plain and edited.reply_markup is None
    assert await harness.broker.orders() == []


async def test_only_the_asker_can_confirm_and_a_double_tap_executes_once(
    harness: BotHarness,
) -> None:
    card = await harness.say(ADMIN, "/buy NSE:SBIN 10 @700")
    confirm = harness.button(card, "Confirm")
    other = await harness.tap(TRADER, card, confirm)
    assert other["text"] == "Only the person who asked can answer this."
    assert harness.telegram.message(ADMIN, card.message_id).text == card.text
    assert await harness.broker.orders() == []

    first = await harness.tap(ADMIN, card, confirm)
    second = await harness.tap(ADMIN, card, confirm)
    assert first["text"] == "Sending…"
    assert "already answered" in second["text"]
    await harness.telegram.wait_for_edit(ADMIN, card.message_id, lambda t: "Placed" in t)
    assert len(await harness.broker.orders()) == 1


async def test_every_confirm_tap_has_one_audit_line_with_its_outcome(harness: BotHarness) -> None:
    """The winning tap's line is written in the claim's commit and closed with the result; a
    tap refused before any claim (not the owner, already answered) gets its line whole."""
    card = await harness.say(ADMIN, "/buy NSE:SBIN 10 @700")
    confirm = harness.button(card, "Confirm")
    await harness.tap(TRADER, card, confirm)
    await harness.tap(ADMIN, card, confirm)
    await harness.telegram.wait_for_edit(ADMIN, card.message_id, lambda t: "Placed" in t)
    await harness.tap(ADMIN, card, confirm)

    def closed(_: object) -> list[tuple[int, str, str]] | None:
        with sqlite3.connect(harness.settings.database_path) as db:
            rows = db.execute(
                "SELECT user_id, what, outcome FROM audit WHERE kind = 'tap' ORDER BY id"
            ).fetchall()
        return rows if len(rows) == 3 and all(row[2] for row in rows) else None

    lines = await harness.telegram.wait_for(closed, what="three closed audit lines")
    assert lines == [
        (TRADER, confirm, "refused: not_owner"),
        (ADMIN, confirm, "done"),
        (ADMIN, confirm, "refused: already_answered"),
    ]


async def test_stranger_gets_one_refusal_and_nothing_else(harness: BotHarness) -> None:
    reply = await harness.say(STRANGER, "/orders")
    assert reply.plain == (
        "Sorry, this is a private bot. Your Telegram id is 999: if you should have access, "
        "send it to the bot's owner."
    )
    assert reply.reply_markup is None
    card = await harness.say(ADMIN, "/buy NSE:SBIN 1 @700")
    answer = await harness.tap(STRANGER, card, harness.button(card, "Confirm"))
    assert answer["text"] == "Sorry, this is a private bot."
    assert await harness.broker.orders() == []
    assert len(harness.telegram.messages(STRANGER)) == 1


async def test_viewer_can_read_but_not_trade(harness: BotHarness) -> None:
    refused = await harness.say(VIEWER, "/buy NSE:SBIN 10")
    assert refused.plain == "Your role (viewer) cannot do this; it needs trader access."
    funds = await harness.say(VIEWER, "/funds")
    assert "Available" in funds.plain
    assert await harness.broker.orders() == []


async def test_expired_card_changes_nothing(harness: BotHarness) -> None:
    card = await harness.say(ADMIN, "/buy NSE:SBIN 10 @700")
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    with sqlite3.connect(harness.settings.database_path) as db:
        db.execute("UPDATE intents SET expires_at = ?", (past,))
    answer = await harness.tap(ADMIN, card, harness.button(card, "Confirm"))
    assert "expired" in answer["text"] and "nothing was sent" in answer["text"]
    assert await harness.broker.orders() == []


async def test_malformed_commands_get_a_sentence_and_the_usage(harness: BotHarness) -> None:
    cases = {
        "/buy": "I need a symbol and a quantity.",
        "/buy SBIN 10": "'SBIN' is not a symbol; write it as EXCHANGE:SYMBOL, e.g. NSE:SBIN.",
        "/buy NSE:SBIN ten": "'ten' is not a quantity",
        "/sell NSE:SBIN 10 @abc": "'abc' is not a valid price.",
        "/buy NSE:SBIN 10 XYZ": "I don't understand 'XYZ'.",
        "/buy XYZ:SBIN 10": "XYZ is not an exchange I know",
    }
    for command, expected in cases.items():
        reply = await harness.say(ADMIN, command)
        assert expected in reply.plain, (command, reply.plain)
        assert "Usage: /" in reply.plain and "EXCHANGE:SYMBOL QTY" in reply.plain
    modify = await harness.say(ADMIN, "/modify")
    assert "I need the order number." in modify.plain and "/modify ORDER_ID" in modify.plain
    unknown = await harness.say(ADMIN, "/frobnicate")
    assert "I don't know that command" in unknown.plain


async def test_unknown_symbol(harness: BotHarness) -> None:
    reply = await harness.say(ADMIN, "/buy NSE:NOSUCH 1")
    assert reply.plain == (
        "I don't know the instrument NSE:NOSUCH. Find the exact symbol with /search nosuch."
    )


async def test_modify_then_cancel_an_open_order(harness: BotHarness) -> None:
    harness.broker.set_price("NSE:SBIN", Decimal("808.30"))
    card = await harness.say(TRADER, "/buy NSE:SBIN 10 @700")
    text = (await harness.confirm(TRADER, card)).plain
    [order] = await harness.broker.orders()
    assert order.order_id in text and order.status is OrderStatus.OPEN

    card = await harness.say(TRADER, f"/modify {order.order_id} 20 @701.5")
    assert "Quantity 10 → 20" in card.plain and "Price 700.00 → 701.50" in card.plain
    await harness.confirm(TRADER, card, "Modified")
    [modified] = await harness.broker.orders()
    assert modified.quantity == 20 and modified.price == Decimal("701.5")

    card = await harness.say(TRADER, f"/cancel {order.order_id}")
    assert "Confirm cancel" in card.plain
    await harness.confirm(TRADER, card, "Cancel sent")
    [cancelled] = await harness.broker.orders()
    assert cancelled.status is OrderStatus.CANCELLED
    await harness.telegram.wait_for(
        lambda t: any("Cancelled" in m.text for m in t.messages(TRADER)),
        what="a cancellation notification",
    )
    again = await harness.say(TRADER, f"/cancel {order.order_id}")
    assert "already cancelled" in again.plain


async def test_a_rejection_is_pushed_with_the_reason(harness: BotHarness) -> None:
    harness.broker.set_price("NSE:SBIN", Decimal("808.30"))
    await harness.confirm(ADMIN, await harness.say(ADMIN, "/buy NSE:SBIN 5000 @810"))
    pushed = await harness.telegram.wait_for(
        lambda t: next((m for m in t.messages(ADMIN) if "Rejected" in m.text), None),
        what="a rejection notification",
    )
    assert "insufficient funds" in pushed.plain.lower()


async def test_orders_survive_a_restart_and_a_card_cannot_run_twice(
    harness: BotHarness,
) -> None:
    card = await harness.say(ADMIN, "/buy NSE:SBIN 10 @700")
    confirm = harness.button(card, "Confirm")
    await harness.tap(ADMIN, card, confirm)
    await harness.telegram.wait_for_edit(ADMIN, card.message_id, lambda t: "Placed" in t)
    await harness.stop()

    from brokers.paper import PaperBroker

    harness.broker = PaperBroker(harness.settings.paper_state_path, tick_seconds=0, seed=7)
    await harness.start()
    book = await harness.say(ADMIN, "/orders")
    assert "NSE:SBIN" in book.plain and "open" in book.plain
    answer = await harness.tap(ADMIN, card, confirm)
    assert "already answered" in answer["text"]
    assert len(await harness.broker.orders()) == 1


# -- nobody waits on Telegram, nothing is left half, every tap is answered ------------------------


async def test_the_order_leaves_while_the_tap_is_still_being_answered(harness: BotHarness) -> None:
    """Telegram is slow to take the tap's answer: the place does not wait for it."""
    card = await harness.say(ADMIN, "/buy NSE:SBIN 10 @700")
    release = harness.telegram.hold("answerCallbackQuery")
    harness.telegram.tap(ADMIN, card.message_id, harness.button(card, "Confirm"))
    placed = await harness.telegram.wait_for_edit(ADMIN, card.message_id, lambda t: "Placed" in t)
    [order] = await harness.broker.orders()
    assert order.order_id in placed.plain
    assert harness.telegram.calls_of("answerCallbackQuery")  # asked for...
    assert harness.telegram.callback_answers == []  # ...and still held
    release.set()
    answer = await harness.telegram.wait_for(
        lambda t: next(iter(t.callback_answers), None), what="the tap's answer"
    )
    assert answer["text"] == "Sending…"


async def test_a_card_deleted_mid_batch_stops_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Progress edits fail (the user deleted the card): every slice is still sent, the intent
    is closed, and the outcome arrives as a new message."""
    from brokers.models import InstrumentKind
    from brokers.paper import PaperBroker

    broker = PaperBroker(tmp_path / "paper.json", capital=Decimal(10**10), tick_seconds=0)
    async with BotHarness(tmp_path, instance=broker) as h:
        future = next(
            i
            for i in await broker.instruments()
            if i.kind is InstrumentKind.FUTURE and i.underlying == "NIFTY"
        )
        card = await h.say(ADMIN, f"/buy {future.key} {1755 * 12}")
        before = len(h.telegram.messages(ADMIN))
        await h.tap(ADMIN, card, h.button(card, "Confirm"))
        h.telegram.message(ADMIN, card.message_id).deleted = True
        outcome = await h.telegram.wait_for(
            lambda t: next((m for m in t.messages(ADMIN)[before:] if "Placed" in m.text), None),
            timeout=15,
            what="the outcome as a new message",
        )
        assert outcome.plain.count("Placed: order") == 12
        assert len(await broker.orders()) == 12
        with sqlite3.connect(h.settings.database_path) as db:
            [(status,)] = db.execute("SELECT status FROM intents WHERE action = 'place'")
        assert status == "DONE"


async def test_a_database_fault_in_the_claim_sends_nothing_and_leaves_the_card_confirmable(
    harness: BotHarness,
) -> None:
    """The order's row cannot be written: the claim and the row are one transaction, so
    neither lands, nothing is sent, the tap is answered in one sentence and the intent is
    still PENDING (the card can be confirmed once the database is back)."""
    card = await harness.say(ADMIN, "/buy NSE:SBIN 10 @700")
    with sqlite3.connect(harness.settings.database_path) as db:
        db.execute("ALTER TABLE orders RENAME TO orders_gone")
    answer = await harness.tap(ADMIN, card, harness.button(card, "Confirm"))
    assert answer["text"] == "Something went wrong on my side. Check /orders before you try again."
    assert await harness.broker.orders() == []
    with sqlite3.connect(harness.settings.database_path) as db:
        [(status,)] = db.execute("SELECT status FROM intents")
        assert status == "PENDING"
        db.execute("ALTER TABLE orders_gone RENAME TO orders")
    answer = await harness.tap(ADMIN, card, harness.button(card, "Confirm"))
    assert answer["text"] == "Sending…"
    await harness.telegram.wait_for_edit(ADMIN, card.message_id, lambda t: "Placed" in t)
    assert len(await harness.broker.orders()) == 1


async def test_a_fault_of_ours_after_the_order_left_is_said_on_the_card(
    tmp_path,
    parts,  # noqa: F811 - the fixture imported above
    totp_clock,  # type: ignore[no-untyped-def]
) -> None:
    """The database fails while the broker is answering, so the intent cannot even be closed:
    the card still says what to do instead of "Sending…" for ever."""
    sim, echo = parts
    sim.hang_seconds = 1.0
    async with _kotak_bot(tmp_path, sim, echo, totp_clock, read_timeout=5.0) as h:
        card = await h.say(ADMIN, "/buy NSE:SBIN 10 @800")
        sim.fail_next("place", "timeout")  # slow: the order exists, the reply comes late
        await h.tap(ADMIN, card, h.button(card, "Confirm"))
        await h.telegram.wait_for(lambda t: sim.orders, what="the order at the broker")
        with sqlite3.connect(h.settings.database_path) as db:
            db.execute("ALTER TABLE intents RENAME TO intents_gone")
        edited = await h.telegram.wait_for_edit(ADMIN, card.message_id, timeout=10)
        assert "Something went wrong on my side while sending" in edited.plain
        assert "Check /orders" in edited.plain
        assert len(sim.calls_of("place")) == 1


async def test_a_tap_that_fails_unexpectedly_is_answered_in_one_sentence(
    harness: BotHarness,
) -> None:
    card = await harness.say(ADMIN, "/buy NSE:SBIN 10 @700")
    with sqlite3.connect(harness.settings.database_path) as db:
        db.execute("ALTER TABLE orders RENAME TO orders_gone")  # the claim cannot be written
    answer = await harness.tap(ADMIN, card, harness.button(card, "Confirm"))
    assert answer["text"] == "Something went wrong on my side. Check /orders before you try again."
    assert await harness.broker.orders() == []


async def test_the_error_handler_answers_what_escapes_the_handlers(harness: BotHarness) -> None:
    """The audit table is gone, so even the guard fails: a known user still hears one
    sentence, and a tap still stops spinning."""
    card = await harness.say(ADMIN, "/buy NSE:SBIN 10 @700")
    with sqlite3.connect(harness.settings.database_path) as db:
        db.execute("ALTER TABLE audit RENAME TO audit_gone")
    reply = await harness.say(ADMIN, "/orders")
    assert reply.plain == "Something went wrong on my side; please try again in a moment."
    answer = await harness.tap(ADMIN, card, harness.button(card, "Confirm"))
    assert answer["text"] == "Something went wrong on my side. Check /orders before you try again."
    assert await harness.broker.orders() == []


def _kotak_bot(tmp_path, sim, echo, totp_clock, read_timeout: float = 0.3) -> BotHarness:  # type: ignore[no-untyped-def]
    """The bot on the Kotak simulator, with a short order timeout so that a hang is quick."""
    import httpx

    from brokers.kotak import KotakBroker
    from brokers.kotak.config import KotakTimeouts
    from tests.fakes.kotak_sim import kotak_config

    timeouts = KotakTimeouts(orders=httpx.Timeout(read_timeout, connect=2.0))
    broker = KotakBroker(kotak_config(sim, tmp_path / "kotak", timeouts=timeouts))
    settings = kotak_settings(sim, echo)
    return BotHarness(tmp_path, instance=broker, totp_clock=totp_clock, **settings)


async def test_a_place_without_answer_is_shown_on_its_card_once_found(
    tmp_path,
    parts,  # noqa: F811 - the fixture imported above
    totp_clock,  # type: ignore[no-untyped-def]
) -> None:
    """Kotak creates the order but the reply never comes: the card first says so, then is
    edited to show the order number the tracker found by our tag (and a push says so)."""
    sim, echo = parts
    sim.hang_seconds = 1.0
    async with _kotak_bot(tmp_path, sim, echo, totp_clock) as h:
        card = await h.say(ADMIN, "/buy NSE:SBIN 10 @800")
        sim.fail_next("place", "timeout")
        first = await h.confirm(ADMIN, card, done="know yet whether it went through")
        assert "do not send it again" in first.plain
        done = await h.telegram.wait_for_edit(ADMIN, card.message_id, lambda t: "Placed" in t)
        [number] = sim.orders
        assert f"Placed: order {number}" in done.plain and "know yet" not in done.plain
        await h.telegram.wait_for(
            lambda t: any("Placed after all" in m.text for m in t.messages(ADMIN)),
            what="the push that it was found",
        )
        assert len(sim.calls_of("place")) == 1
