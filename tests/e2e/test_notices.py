"""Issue 12 end to end: one start-up message, one stop message, /status, /notify and its effect
on pushes, and the daily summary with its chart (once a day: tests/unit/market/test_summary.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from brokers.paper import PaperBroker
from tests.e2e.harness import ADMIN, STRANGER, TRADER, VIEWER, BotHarness
from tests.e2e.test_kotak import ELSEWHERE, kotak_settings, move, parts  # noqa: F401 - fixture
from tests.fakes.ip_echo import FakeIPEcho
from tests.fakes.kotak_sim import KotakSimulator
from tests.fakes.telegram_server import StoredMessage
from tests.fakes.totp_clock import SkipAheadClock


async def started(h: BotHarness) -> StoredMessage:
    """The start-up message, and proof nothing else came with it: a /status asked after it is
    answered next (pushes to one chat go out in order)."""
    first = await h.telegram.wait_for(
        lambda t: next(iter(t.messages(ADMIN)), None), what="the start-up message"
    )
    status = await h.say(ADMIN, "/status")
    assert status.plain.startswith("Status"), status.plain
    assert [m.message_id for m in h.telegram.messages(ADMIN)] == [
        first.message_id,
        status.message_id,
    ], [m.plain for m in h.telegram.messages(ADMIN)]
    return first


async def test_paper_start_and_stop_are_one_message_each(tmp_path: Path) -> None:
    async with BotHarness(tmp_path) as h:
        hello = await started(h)
        assert hello.plain.startswith("🟢 Bot started: ")
        assert "paper trading (no real money).\n✅ orders open." in hello.plain
        assert h.telegram.messages(VIEWER) == [] and h.telegram.messages(TRADER) == []
        before = len(h.telegram.messages(ADMIN))
    after = h.telegram.messages(ADMIN)[before:]
    assert [m.plain.split(":")[0] for m in after] == ["🔴 Bot stopping"]


async def test_kotak_start_is_one_message_saying_live_and_open(
    tmp_path: Path,
    parts: tuple[KotakSimulator, FakeIPEcho],  # noqa: F811 - the fixture imported above
    totp_clock: SkipAheadClock,
) -> None:
    sim, echo = parts
    async with BotHarness(tmp_path, totp_clock=totp_clock, **kotak_settings(sim, echo)) as h:
        hello = await started(h)
        assert "on kotak, live trading" in hello.plain and "✅ orders open" in hello.plain
        status = await h.say(ADMIN, "/status")
        assert "Order feed: streaming" in status.plain, status.plain
        before = len(h.telegram.messages(ADMIN))
    assert [m.plain.split(":")[0] for m in h.telegram.messages(ADMIN)[before:]] == [
        "🔴 Bot stopping"
    ]


async def test_kotak_start_from_a_foreign_ip_says_why_orders_are_blocked(
    tmp_path: Path,
    parts: tuple[KotakSimulator, FakeIPEcho],  # noqa: F811 - the fixture imported above
    totp_clock: SkipAheadClock,
) -> None:
    sim, echo = parts
    move(sim, echo, ELSEWHERE)
    async with BotHarness(tmp_path, totp_clock=totp_clock, **kotak_settings(sim, echo)) as h:
        hello = await started(h)
        assert "⛔ orders blocked: this server's IP address is 198.51.100.99" in hello.plain


async def test_status_shows_more_to_admins(harness: BotHarness) -> None:
    await harness.say(ADMIN, "/positions")  # one broker read, so there is a last answer
    admin = await harness.say(ADMIN, "/status")
    assert "Broker (paper) last answered: " in admin.plain and "not yet" not in admin.plain
    assert "Order feed: none" in admin.plain
    assert "Messages waiting to be sent: 0" in admin.plain
    assert "Orders: open" in admin.plain
    viewer = await harness.say(VIEWER, "/status")
    assert viewer.plain.startswith("Status\nUp ") and "Order feed" not in viewer.plain
    stranger = await harness.say(STRANGER, "/status")
    assert stranger.plain.startswith("Sorry, this is a private bot.")


def rows(message: StoredMessage) -> list[tuple[str, str]]:
    assert message.reply_markup, message.plain
    return [(b["text"], b["callback_data"]) for [b] in message.reply_markup["inline_keyboard"]]


async def test_notify_cycles_each_users_own_settings(harness: BotHarness) -> None:
    menu = await harness.say(ADMIN, "/notify")
    assert [label for label, _ in rows(menu)] == [
        "Fills: 🔔 on",
        "Rejections: 🔔 on",
        "Cancels and late finds: 🔔 on",
        "Price alerts: 🔔 on",
        "Session and IP: 🔔 on",
        "Bot start and stop: 🔔 on",
        "Daily summary: 🔔 on",
    ]
    answer = await harness.tap(ADMIN, menu, "nf:fills")
    assert answer["text"] == "Fills: silent"
    await harness.telegram.wait_for(
        lambda t: rows(t.message(ADMIN, menu.message_id))[0][0] == "Fills: 🔕 silent",
        what="the redrawn buttons",
    )
    assert (await harness.tap(ADMIN, menu, "nf:fills"))["text"] == "Fills: off"
    assert (await harness.tap(ADMIN, menu, "nf:fills"))["text"] == "Fills: on"

    viewer = await harness.say(VIEWER, "/notify")
    assert [label for label, _ in rows(viewer)] == ["Price alerts: 🔔 on", "Daily summary: ✖ off"]
    refused = await harness.tap(VIEWER, viewer, "nf:session")
    assert refused["text"] == "That setting is not available to you."
    # A tap on someone else's menu changes nothing of theirs, and is answered.
    other = await harness.tap(TRADER, menu, "nf:fills")
    assert other["text"] == "These are someone else's settings; send /notify for yours."
    stranger = await harness.tap(STRANGER, menu, "nf:fills")
    assert stranger["text"] == "Sorry, this is a private bot."
    again = await harness.say(ADMIN, "/notify")
    assert rows(again)[0][0] == "Fills: 🔔 on"


async def fill(h: BotHarness, user: int) -> StoredMessage:
    """A market buy confirmed and filled; the card once it says so (the fill's push, if any, is
    published before the card's edit)."""
    card = await h.say(user, "/buy NSE:SBIN 10")
    await h.confirm(user, card)
    return await h.telegram.wait_for_edit(user, card.message_id, lambda t: "Filled" in t)


def fills(h: BotHarness, user: int) -> list[StoredMessage]:
    return [m for m in h.telegram.messages(user) if m.plain.startswith("✅ Filled:")]


async def pushed_fills(h: BotHarness, user: int, count: int) -> None:
    """Wait until `count` fill pushes reached the user (the outbox delivers after the edit)."""
    await h.telegram.wait_for(lambda _: len(fills(h, user)) >= count, what=f"{count} fill pushes")


async def test_silent_fills_come_without_a_sound_and_off_not_at_all(harness: BotHarness) -> None:
    assert isinstance(harness.broker, PaperBroker)
    harness.broker.set_price("NSE:SBIN", Decimal("808.30"))
    await fill(harness, TRADER)
    await pushed_fills(harness, TRADER, 1)
    assert [m.silent for m in fills(harness, TRADER)] == [False]
    menu = await harness.say(TRADER, "/notify")
    await harness.tap(TRADER, menu, "nf:fills")  # silent
    await fill(harness, TRADER)
    await pushed_fills(harness, TRADER, 2)
    assert [m.silent for m in fills(harness, TRADER)] == [False, True]
    await harness.tap(TRADER, menu, "nf:fills")  # off
    await fill(harness, TRADER)
    await harness.tap(TRADER, menu, "nf:fills")  # on again
    await fill(harness, TRADER)
    # Pushes reach a chat in order: once the fourth fill's push is there, the third's would be.
    await pushed_fills(harness, TRADER, 3)
    assert [m.silent for m in fills(harness, TRADER)] == [False, True, False]


IST_16_00_WEDNESDAY = datetime(2026, 4, 1, 10, 30, tzinfo=UTC)  # 16:00 IST
IST_15_00_WEDNESDAY = datetime(2026, 4, 1, 9, 30, tzinfo=UTC)


async def test_daily_summary_after_a_restart_past_its_time_with_its_chart(tmp_path: Path) -> None:
    now = [IST_15_00_WEDNESDAY]
    async with BotHarness(tmp_path, clock=lambda: now[0], daily_summary_at="15:45") as h:
        assert isinstance(h.broker, PaperBroker)
        h.broker.set_price("NSE:SBIN", Decimal("808.30"))
        await fill(h, TRADER)
        rejected = await h.say(TRADER, "/buy NSE:SBIN 100000 @812")
        await h.confirm(TRADER, rejected, done="Rejected")
        await h.stop()
        assert not [m for m in h.telegram.messages(ADMIN) if "Daily summary" in m.plain]

        now[0] = IST_16_00_WEDNESDAY
        h.broker = PaperBroker(  # the same day's paper book, read on the same clock
            h.settings.paper_state_path,  # type: ignore[union-attr]
            tick_seconds=0,
            seed=7,
            clock=lambda: now[0],
        )
        await h.start()
        summary = await h.telegram.wait_for(
            lambda t: next((m for m in t.messages(ADMIN) if "Daily summary" in m.plain), None),
            what="the daily summary",
        )
        assert "Wed 01 Apr 2026" in summary.plain
        assert "Orders: 2 · filled 1 · rejected 1" in summary.plain
        assert "❌ BUY 100000 NSE:SBIN: " in summary.plain
        assert "NSE:SBIN +10: " in summary.plain
        assert "Session and IP" in summary.plain
        chart = await h.telegram.wait_for(
            lambda t: next((m for m in t.messages(ADMIN) if m.photo), None), what="the chart"
        )
        assert chart.photo is not None and chart.photo.startswith(b"\x89PNG")
        assert chart.plain.startswith("P&L by position, 01 Apr 2026: total ")
        trader = await h.telegram.wait_for(
            lambda t: next((m for m in t.messages(TRADER) if "Daily summary" in m.plain), None),
            what="the trader's summary",
        )
        assert "Session and IP" not in trader.plain  # incidents are for admins
        assert not [m for m in h.telegram.messages(VIEWER) if "Daily summary" in m.plain]
