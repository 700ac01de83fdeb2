"""Delivery that loses nothing: pushes go through the persistent outbox and the one sender to
the fake Telegram server (loopback, real PTB `Bot`, real SQLite file), through outages, flood
control, restarts, refused markup and unreachable chats; bursts are coalesced and long texts
split. The sender's clock is virtual (see conftest), so a minute of outage takes no minute."""

from __future__ import annotations

import asyncio
import logging
import re
from decimal import Decimal

import pytest

from bot.notify import (
    CardUpdate,
    Keyboard,
    Notifier,
    OrderFilled,
    OrderRejected,
    OrdersBlocked,
    Sender,
)
from bot.notify.events import CardRef, Event, next_revision
from bot.notify.notifier import Setting
from handlers.outbox import TelegramOutbox
from handlers.render import render_event
from tests.unit.notify.conftest import Rig

CHAT = 42


def fill(n: int) -> OrderFilled:
    return OrderFilled(CHAT, f"2612010000{n:05d}", "NSE:SBIN", "BUY", 1, Decimal("812.35"))


def order_numbers(texts: list[str]) -> list[str]:
    return re.findall(r"order (2612010000\d{5})", "\n".join(texts))


async def test_telegram_down_for_a_minute_loses_no_fill_and_doubles_none(rig: Rig) -> None:
    await rig.telegram.go_down("502")
    rig.time.at(60, rig.telegram.come_up)
    await rig.sender.start()
    rig.time.paused = True  # the virtual minute starts once the fills are in
    publish = rig.notifier.for_account("kotak", paper=False)
    for n in range(20):
        await publish(fill(n))
    assert await rig.store.outbox.counts() == {"PENDING": 20}  # written, whatever Telegram does
    rig.time.resume()

    await rig.delivered()

    assert rig.telegram.calls_while_down > 0 and rig.time.now >= 60
    texts = [m.plain for m in rig.telegram.messages(CHAT)]
    assert order_numbers(texts) == [f"2612010000{n:05d}" for n in range(20)]  # once, in order
    assert await rig.store.outbox.counts() == {"SENT": 20}


async def test_the_outbox_survives_a_restart_while_telegram_is_down(rig: Rig) -> None:
    await rig.telegram.go_down("refused")
    backing_off = asyncio.Event()

    async def note() -> None:
        backing_off.set()

    rig.time.at(1, note)  # the sender tried, failed and backs off
    await rig.sender.start()
    for n in range(3):
        await rig.notifier.publish(fill(n))
    await asyncio.wait_for(backing_off.wait(), 10)
    assert await rig.store.outbox.counts() == {"PENDING": 3}
    await rig.restart()  # new Store on the same file, new sender
    await rig.telegram.come_up()
    await rig.sender.start()

    await rig.delivered()

    texts = [m.plain for m in rig.telegram.messages(CHAT)]
    assert order_numbers(texts) == [f"2612010000{n:05d}" for n in range(3)]


async def test_429_retry_after_is_honoured(rig: Rig) -> None:
    rig.telegram.fail_next("sendMessage", retry_after=7)
    await rig.sender.start()
    await rig.notifier.push(CHAT, "one")
    await rig.delivered()
    assert [m.text for m in rig.telegram.messages(CHAT)] == ["one"]
    assert any(s >= 7 for s in rig.time.sleeps)  # held the chat for retry_after
    assert len(rig.telegram.calls_of("sendMessage")) == 2


async def test_waiting_pushes_are_coalesced_into_one_message(rig: Rig) -> None:
    publish = rig.notifier.for_account("paper", paper=True)
    for n in range(40):
        await publish(fill(n))
    await rig.sender.start()
    await rig.delivered()
    [message] = rig.telegram.messages(CHAT)
    assert order_numbers([message.plain]) == [f"2612010000{n:05d}" for n in range(40)]


async def test_what_waits_at_start_goes_out_without_the_linger(rig: Rig) -> None:
    """Rows written before the sender starts (the start-up messages, an earlier run's
    backlog) are all there already: they go out at once, while the bot's first poll waits
    for the start-up message; a push raised while running still lingers, to gather a burst."""
    await rig.notifier.publish(fill(0))
    await rig.sender.start()
    await rig.delivered()
    assert rig.time.sleeps == []
    assert len(rig.telegram.messages(CHAT)) == 1
    rig.time.now += 5  # past the chat's one-second slot
    await rig.notifier.publish(fill(1))
    await rig.delivered()
    assert rig.time.sleeps == [0.1]
    assert len(rig.telegram.messages(CHAT)) == 2


async def test_a_burst_while_the_chat_is_paced_becomes_one_message(rig: Rig) -> None:
    await rig.sender.start()
    await rig.notifier.publish(fill(0))
    await rig.delivered()
    rig.time.paused = True  # the sender now waits out the chat's one-second slot
    await rig.notifier.publish(fill(1))
    for n in range(2, 41):
        await rig.notifier.publish(fill(n))
    rig.time.resume()
    await rig.delivered()
    first, second = rig.telegram.messages(CHAT)
    assert order_numbers([first.plain]) == ["261201000000000"]
    assert order_numbers([second.plain]) == [f"2612010000{n:05d}" for n in range(1, 41)]


async def test_a_12000_character_message_arrives_whole_and_in_order(rig: Rig) -> None:
    lines = [f"line {n:04d} " + "x" * 70 for n in range(150)]
    text = "\n".join(lines)
    assert len(text) > 12_000
    await rig.sender.start()
    await rig.notifier.push(CHAT, text)
    await rig.delivered()
    parts = [m.text for m in rig.telegram.messages(CHAT)]
    assert len(parts) == 4 and all(len(p) <= 4000 for p in parts)
    assert "\n".join(parts) == text


async def test_every_dynamic_value_is_escaped(rig: Rig) -> None:
    publish = rig.notifier.for_account("desk <a&b>", paper=False)
    rejected = OrderRejected(CHAT, "1", "NSE:M&M", "BUY", 1, "price < band & > tick")
    await rig.sender.start()
    await publish(rejected)
    await rig.delivered()
    [message] = rig.telegram.messages(CHAT)
    assert message.parse_mode == "HTML"
    assert "M&amp;M" in message.text and "&lt; band &amp; &gt; tick" in message.text
    assert "desk &lt;a&amp;b&gt;" in message.text
    assert "NSE:M&M" in message.plain and "Account desk <a&b> · 💰 live" in message.plain


async def test_markup_refused_goes_out_as_plain_text(rig: Rig) -> None:
    rig.telegram.fail_next("sendMessage", 400, "Bad Request: can't parse entities: bad tag")
    await rig.sender.start()
    await rig.notifier.push(CHAT, "<b>Filled</b> M&amp;M")
    await rig.delivered()
    [message] = rig.telegram.messages(CHAT)
    assert message.parse_mode is None and message.text == "Filled M&M"


async def test_an_unreachable_chat_is_failed_with_one_line_and_others_go_on(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    rig.telegram.never_started(555)
    await rig.sender.start()
    with caplog.at_level(logging.WARNING, logger="bot.notify.sender"):
        await rig.notifier.push(555, "lost cause")
        await rig.notifier.push(CHAT, "fine")
        await rig.delivered()
    assert await rig.store.outbox.counts() == {"FAILED": 1, "SENT": 1}
    [line] = [r for r in caplog.records if r.name == "bot.notify.sender"]
    assert line.getMessage().startswith("could not deliver a notification to chat 555: user 555")
    assert line.exc_info is None
    assert len(rig.telegram.calls_of("sendMessage")) == 2  # the refusal was not retried


async def test_silent_rows_are_sent_without_notification(rig: Rig) -> None:
    await rig.sender.start()
    await rig.notifier.push(CHAT, "quiet", silent=True)
    await rig.delivered()
    await rig.notifier.push(CHAT, "loud")
    await rig.delivered()
    quiet, loud = rig.telegram.messages(CHAT)
    assert (quiet.silent, loud.silent) == (True, False)
    assert rig.telegram.calls_of("sendMessage")[0]["disable_notification"] is True


async def test_the_preference_hook_silences_or_drops_an_event(rig: Rig) -> None:
    asked: list[tuple[int, str]] = []

    async def preference(user_id: int, event: Event) -> Setting:
        kind = type(event).__name__
        asked.append((user_id, kind))
        return "silent" if kind == "OrderFilled" else "off"

    notifier = Notifier(
        TelegramOutbox(rig.bot), render_event, sender=rig.sender, preference=preference
    )
    await rig.sender.start()
    await notifier.publish(fill(1))
    await notifier.publish(OrderRejected(CHAT, "2", "NSE:SBIN", "BUY", 1, "no"))
    await rig.delivered()
    [message] = rig.telegram.messages(CHAT)
    assert message.silent and "Filled" in message.plain
    assert asked == [(CHAT, "OrderFilled"), (CHAT, "OrderRejected")]


async def test_a_card_that_cannot_be_edited_gets_its_outcome_through_the_outbox(
    rig: Rig,
) -> None:
    await rig.sender.start()
    card = CardRef(CHAT, 99)  # no such message: Telegram says "message to edit not found"
    await rig.notifier.edit_card(card, "✅ Placed: order 1", revision=next_revision())
    await rig.delivered()
    assert [m.text for m in rig.telegram.messages(CHAT)] == ["✅ Placed: order 1"]
    assert await rig.store.outbox.counts() == {"SENT": 1}


async def test_publishing_returns_before_telegram_answers(rig: Rig) -> None:
    """The order path never waits on Telegram: a publish while Telegram holds every send
    returns once the row is written."""
    held = rig.telegram.hold("sendMessage")
    await rig.sender.start()
    await rig.notifier.publish(fill(1))
    await rig.notifier.publish(fill(2))
    assert await rig.store.outbox.counts() == {"PENDING": 2}
    held.set()
    await rig.delivered()
    assert await rig.store.outbox.counts() == {"SENT": 2}


async def test_a_card_update_does_not_hold_up_the_publisher(rig: Rig) -> None:
    """The tracker publishes card updates: it goes on while Telegram sits on the edit."""
    message_id = await rig.notifier.send(CHAT, "card")
    held = rig.telegram.hold("editMessageText")
    update = CardUpdate(CardRef(CHAT, message_id), "an outcome", next_revision())
    notifier = Notifier(TelegramOutbox(rig.bot), lambda e: "✅ Filled", sender=rig.sender)
    await notifier.publish(update)  # returns with the edit still waiting on Telegram
    assert rig.telegram.message(CHAT, message_id).edit_texts == []
    held.set()
    await notifier.settled()
    assert rig.telegram.message(CHAT, message_id).edit_texts == ["✅ Filled"]


async def test_a_failing_preference_hook_still_delivers(rig: Rig) -> None:
    async def broken(user_id: int, event: Event) -> Setting:
        raise LookupError("settings table missing")

    notifier = Notifier(TelegramOutbox(rig.bot), render_event, sender=rig.sender, preference=broken)
    await rig.sender.start()
    await notifier.publish(fill(1))
    await rig.delivered()
    [message] = rig.telegram.messages(CHAT)
    assert "Filled" in message.plain and not message.silent


async def test_a_picture_waits_out_an_outage_in_the_outbox_and_is_never_merged(rig: Rig) -> None:
    """The daily chart is a push like any other: written first, sent once Telegram is back,
    after the text before it and never folded into it."""
    png = b"\x89PNG\r\n\x1a\n-chart-"
    await rig.telegram.go_down("502")
    rig.time.at(30, rig.telegram.come_up)
    await rig.sender.start()
    rig.time.paused = True
    await rig.notifier.push(CHAT, "summary", coalesce_key="orders")
    await rig.notifier.push_photo(CHAT, png, "<b>P&amp;L</b> chart")
    await rig.notifier.push(CHAT, "after", coalesce_key="orders")
    assert await rig.store.outbox.counts() == {"PENDING": 3}
    rig.time.resume()

    await rig.delivered()

    text, photo, after = rig.telegram.messages(CHAT)
    assert (text.text, after.text) == ("summary", "after")
    assert photo.photo == png and photo.text == "<b>P&amp;L</b> chart"
    assert len(rig.telegram.calls_of("sendPhoto")) == 1 and rig.telegram.calls_while_down > 0
    assert await rig.store.outbox.counts() == {"SENT": 3}


class HeldChat:
    """An outbox that holds every send to one chat until released (a chat whose backlog is
    still draining) and takes the others at once."""

    def __init__(self, held: int) -> None:
        self.held = held
        self.release = asyncio.Event()
        self.sent: list[int] = []

    async def send(
        self, chat_id: int, text: str, *, markup: bool, keyboard: Keyboard | None,
        silent: bool = False,
    ) -> int:  # fmt: skip
        if chat_id == self.held:
            await self.release.wait()
        self.sent.append(chat_id)
        return len(self.sent)

    async def send_photo(
        self, chat_id: int, png: bytes, caption: str, *, markup: bool, silent: bool = False
    ) -> int:
        return await self.send(chat_id, caption, markup=markup, keyboard=None)

    async def edit(
        self, chat_id: int, message_id: int, text: str, *, markup: bool, keyboard: Keyboard | None
    ) -> None:
        return None


async def test_an_admin_notice_waited_for_does_not_wait_for_other_chats(rig: Rig) -> None:
    """The start and stop notices wait until the admins have them, not until a backlog of
    pushes to other chats (left by an outage) has drained: start-up is not held up by it."""
    admin, other = 111, 7
    outbox = HeldChat(held=other)
    sender = Sender(rig.store.outbox, outbox, clock=rig.time, sleep=rig.time.sleep)
    notifier = Notifier(outbox, render_event, sender=sender, admins=[admin])
    await sender.start()
    try:
        await notifier.push(other, "a fill the outage held back")
        await asyncio.wait_for(
            notifier.tell_admins(OrdersBlocked("kotak", "no session"), wait=True), 5
        )
        assert outbox.sent == [admin]
    finally:
        outbox.release.set()
        await sender.stop()
