"""Price alerts and unfilled protected limits in chat: the real bot, the fake Telegram server and
a steered paper broker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bot.market import InstrumentIndex
from bot.orders.protection import protect
from brokers.models import Instrument, OrderStatus, Side
from tests.e2e.harness import ADMIN, STRANGER, TRADER, VIEWER, BotHarness
from tests.fakes.telegram_server import StoredMessage

SBIN = "NSE:SBIN"
FAST = {"alert_check_seconds": 1}


class Clock:
    """The wall clock plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def labels(message: StoredMessage) -> list[str]:
    assert message.reply_markup is not None, message.text
    return [b["text"] for row in message.reply_markup["inline_keyboard"] for b in row]


def notices(harness: BotHarness, user: int, alert_id: int) -> list[StoredMessage]:
    return [m for m in harness.telegram.messages(user) if f"Alert {alert_id}: " in m.plain]


async def notice(harness: BotHarness, user: int, alert_id: int, count: int = 1) -> StoredMessage:
    """Wait for the `count`-th notice of alert `alert_id` in `user`'s chat."""
    found: list[StoredMessage] = await harness.telegram.wait_for(
        lambda t: (n := notices(harness, user, alert_id)) and len(n) >= count and n,
        timeout=15,
        what=f"notice {count} of alert {alert_id}",
    )
    return found[count - 1]


async def option(harness: BotHarness) -> tuple[Instrument, Decimal]:
    assert harness.broker is not None
    instrument = InstrumentIndex(await harness.broker.instruments()).example_option()
    assert instrument is not None
    ltp = (await harness.broker.quotes([instrument]))[instrument.key].ltp
    assert ltp is not None and ltp > 1
    return instrument, ltp


async def test_alerts_of_each_kind_are_set_listed_and_removed(tmp_path: Path) -> None:
    async with BotHarness(tmp_path, **FAST) as harness:
        harness.broker.set_price(SBIN, Decimal("808.30"))
        contract, ltp = await option(harness)
        far_below = (ltp / 4).quantize(Decimal("0.1"))
        replies = [
            await harness.say(TRADER, "/alert NSE:SBIN above 820"),
            await harness.say(TRADER, f"/alert {contract.key} below {far_below}"),
            await harness.say(TRADER, "/alert nse:sbin crosses 815 repeat 10m  retest of  range"),
            await harness.say(TRADER, "/alert NSE:SBIN move 2%"),
        ]
        assert [r.plain.split(":")[0] for r in replies] == [
            f"🔔 Alert {n} set" for n in (1, 2, 3, 4)
        ]
        assert "NSE:SBIN above 820.00 (once)" in replies[0].plain
        assert f"{contract.key} below {far_below}" in replies[1].plain
        assert "crosses 815.00 (repeats, 10 min apart)" in replies[2].plain
        assert "retest of  range" in replies[2].plain  # the note as typed
        assert "move 2% from 808.30" in replies[3].plain
        viewer = await harness.say(VIEWER, "/alert NSE:SBIN above 900")  # alerts do not trade
        assert "Alert 5 set" in viewer.plain

        listing = await harness.say(TRADER, "/alerts")
        assert listing.plain.count("\n") == 4 and "above 900" not in listing.plain
        assert labels(listing) == [f"🗑 Remove {n}" for n in (1, 2, 3, 4)]
        refused = await harness.tap(VIEWER, listing, "al:r:1")
        assert refused["text"] == "Only the person who set this alert can use its buttons."
        answer = await harness.tap(TRADER, listing, "al:r:1")
        assert answer["text"] == "Alert 1 deleted."
        edited = await harness.telegram.wait_for_edit(TRADER, listing.message_id)
        assert "above 820" not in edited.plain and labels(edited)[0] == "🗑 Remove 2"

        assert (await harness.say(TRADER, "/alert off 4")).plain == "Alert 4 removed."
        gone = await harness.say(TRADER, "/alert off 4")
        assert gone.plain == "You have no active alert 4."
        assert (await harness.say(VIEWER, "/alert off 2")).plain == "You have no active alert 2."
        left = await harness.say(TRADER, "/alerts")
        assert [line.split(".")[0] for line in left.plain.splitlines()[1:]] == ["2", "3"]


async def test_every_malformed_alert_gets_one_sentence_and_the_usage(harness: BotHarness) -> None:
    usage = "Usage: /alert EXCHANGE:SYMBOL above|below|crosses PRICE"
    cases = {
        "/alert": "I need a symbol, a condition and a level.",
        "/alert SBIN above 820": "'SBIN' is not a symbol; write it as EXCHANGE:SYMBOL",
        "/alert NSE:SBIN sideways 820": "'sideways' is not a condition; use above, below,",
        "/alert NSE:SBIN": "I need a condition; use above, below, crosses or move.",
        "/alert NSE:SBIN above": "I need a price level after above.",
        "/alert NSE:SBIN above twenty": "'twenty' is not a valid price level.",
        "/alert NSE:SBIN move -2%": "'-2' is not a valid percentage.",
        "/alert NSE:SBIN above 820 repeat 30h": "'30h' is too long a cool-down; at most 24h.",
    }
    for command, sentence in cases.items():
        reply = (await harness.say(TRADER, command)).plain
        first, second = reply.split("\n")
        assert first.startswith(sentence), (command, reply)
        assert second.startswith(usage), (command, reply)
    off = (await harness.say(TRADER, "/alert off seven")).plain
    assert off == "'seven' is not an alert number.\nUsage: /alert off ID"
    core = {
        "/alert NSE:SBIN move 150%": "A move alert takes a percentage under 100; got 150.",
        "/alert NSE:NOSUCH above 5": "NSE:NOSUCH",
    }
    for command, sentence in core.items():
        reply = (await harness.say(TRADER, command)).plain
        assert sentence in reply and "\n" not in reply and "Error" not in reply, reply
    assert "no active alerts" in (await harness.say(TRADER, "/alerts")).plain
    refused = await harness.say(STRANGER, "/alert NSE:SBIN above 820")
    assert refused.plain.startswith("Sorry, this is a private bot.")


async def test_a_crossing_fires_once_and_buy_opens_the_normal_card(tmp_path: Path) -> None:
    async with BotHarness(tmp_path, **FAST) as harness:
        harness.broker.set_price(SBIN, Decimal("808.30"))
        card = await harness.say(TRADER, "/buy NSE:SBIN 7 @800")  # the last quantity used
        await harness.confirm(TRADER, card)
        await harness.say(TRADER, "/alert NSE:SBIN above 820 breakout")
        harness.broker.set_price(SBIN, Decimal("821"))
        fired = await notice(harness, TRADER, 1)
        assert "NSE:SBIN at 821.00 (above 820.00, up)." in fired.plain
        assert fired.plain.endswith("\nbreakout")
        assert labels(fired) == ["Buy", "Sell", "Snooze 15 min", "Delete"]
        harness.broker.set_price(SBIN, Decimal("825"))
        # a one-shot alert that fired is not watched any more: nothing can fire it again
        assert "no active alerts" in (await harness.say(TRADER, "/alerts")).plain

        buy = harness.button(fired, "Buy")
        other = await harness.tap(ADMIN, fired, buy)
        assert other["text"] == "Only the person who set this alert can use its buttons."
        stranger = await harness.tap(STRANGER, fired, buy)
        assert stranger["text"].startswith("Sorry, this is a private bot.")

        before = len(harness.telegram.messages(TRADER))
        answer = await harness.tap(TRADER, fired, buy)
        assert answer["text"] == "Confirm on the card below; nothing is sent before."
        offer = harness.telegram.messages(TRADER)[before]
        assert "BUY 7 NSE:SBIN" in offer.plain and "LTP 825.00" in offer.plain
        assert labels(offer) == ["✅ Confirm", "✖️ Cancel"]
        assert len(await harness.broker.orders()) == 1  # nothing sent before Confirm
        await harness.confirm(TRADER, offer)
        assert len(await harness.broker.orders()) == 2
        assert len(notices(harness, TRADER, 1)) == 1

        contract, ltp = await option(harness)
        await harness.say(TRADER, f"/alert {contract.key} below {ltp * 2}")  # fires at once
        option_notice = await notice(harness, TRADER, 2)
        before = len(harness.telegram.messages(TRADER))
        await harness.tap(TRADER, option_notice, harness.button(option_notice, "Sell"))
        sell = harness.telegram.messages(TRADER)[before]
        assert f"SELL {contract.lot_size} {contract.key}" in sell.plain  # one lot


async def test_a_viewer_gets_no_buy_or_sell_buttons(tmp_path: Path) -> None:
    async with BotHarness(tmp_path, **FAST) as harness:
        harness.broker.set_price(SBIN, Decimal("808.30"))
        await harness.say(VIEWER, "/alert NSE:SBIN below 810")  # already below: fires at once
        fired = await notice(harness, VIEWER, 1)
        assert labels(fired) == ["Snooze 15 min", "Delete"]
        refused = await harness.tap(VIEWER, fired, "al:b:1")
        assert refused["text"] == "Your role (viewer) cannot do this; it needs trader access."


async def test_snooze_holds_an_alert_for_15_minutes_then_it_fires_again(tmp_path: Path) -> None:
    clock = Clock()
    async with BotHarness(tmp_path, clock=clock, **FAST) as harness:
        harness.broker.set_price(SBIN, Decimal("808.30"))
        await harness.say(TRADER, "/alert NSE:SBIN above 820")
        harness.broker.set_price(SBIN, Decimal("821"))
        fired = await notice(harness, TRADER, 1)
        other = await harness.tap(ADMIN, fired, harness.button(fired, "Snooze"))
        assert other["text"] == "Only the person who set this alert can use its buttons."
        answer = await harness.tap(TRADER, fired, harness.button(fired, "Snooze"))
        assert answer["text"].startswith("Snoozed until ")
        assert "snoozed until" in (await harness.say(TRADER, "/alerts")).plain

        clock.offset = timedelta(minutes=14)
        harness.broker.set_price(SBIN, Decimal("821"))  # a trade now: a fresh price
        # Two alerts that fire on the price the snoozed one sees: once the second one's notice
        # is in, every round up to the first one's has been evaluated and delivered.
        await harness.say(TRADER, "/alert NSE:SBIN above 800")
        await notice(harness, TRADER, 2)
        await harness.say(TRADER, "/alert NSE:SBIN above 800")
        await notice(harness, TRADER, 3)
        assert len(notices(harness, TRADER, 1)) == 1

        clock.offset = timedelta(minutes=15, seconds=5)
        harness.broker.set_price(SBIN, Decimal("821"))
        again = await notice(harness, TRADER, 1, count=2)
        assert "NSE:SBIN at 821.00" in again.plain
        deleted = await harness.tap(TRADER, again, harness.button(again, "Delete"))
        assert deleted["text"] == "Alert 1 deleted."
        late = await harness.tap(TRADER, again, harness.button(again, "Buy"))
        assert late["text"] == "Alert 1 was deleted."


async def test_an_unfilled_protected_limit_is_pushed_once_with_modify_and_cancel_cards(
    tmp_path: Path,
) -> None:
    async with BotHarness(tmp_path, unfilled_alert_seconds=1) as harness:
        harness.broker.set_price(SBIN, Decimal("808.30"))
        limit = await harness.say(TRADER, "/buy NSE:SBIN 5 @800")  # a limit: never pushed
        await harness.confirm(TRADER, limit)
        card = await harness.say(TRADER, "/buy NSE:SBIN 10")  # protected limit 812.35
        harness.broker.set_price(SBIN, Decimal("830"))  # the market runs past the band
        await harness.confirm(TRADER, card)
        [market] = [o for o in await harness.broker.orders() if o.quantity == 10]
        assert market.status is OrderStatus.OPEN and market.price == Decimal("812.35")

        push = await harness.telegram.wait_for(
            lambda t: next((m for m in t.messages(TRADER) if "Not filled" in m.plain), None),
            timeout=15,
            what="the unfilled-limit push",
        )
        assert f"BUY 10 NSE:SBIN at limit 812.35 (order {market.order_id})" in push.plain
        assert labels(push) == ["Re-price at LTP ± band", "Cancel"]
        reprice = harness.button(push, "Re-price")
        other = await harness.tap(ADMIN, push, reprice)
        assert other["text"] == "Only the person who placed this order can change it."

        [sbin] = [i for i in await harness.broker.instruments() if i.key == SBIN]
        expected = protect(Side.BUY, Decimal("830"), sbin.tick_size, is_option=False).price
        before = len(harness.telegram.messages(TRADER))
        answer = await harness.tap(TRADER, push, reprice)
        assert answer["text"] == "Confirm on the card below; nothing is sent before."
        modify = harness.telegram.messages(TRADER)[before]
        assert f"{expected:f}" in modify.plain and "re-priced from the current LTP" in modify.plain
        assert labels(modify) == ["✅ Confirm", "✖️ Cancel"]

        before = len(harness.telegram.messages(TRADER))
        await harness.tap(TRADER, push, harness.button(push, "Cancel"))
        cancel = harness.telegram.messages(TRADER)[before]
        assert market.order_id in cancel.plain and labels(cancel) == [
            "🗑 Cancel order",
            "↩️ Keep order",
        ]
        [still] = [o for o in await harness.broker.orders() if o.quantity == 10]
        assert still.status is OrderStatus.OPEN and still.price == Decimal("812.35")

        await harness.confirm(TRADER, modify, done="Modified")
        [moved] = [o for o in await harness.broker.orders() if o.quantity == 10]
        assert moved.price == expected
        pushes = [m for m in harness.telegram.messages(TRADER) if "Not filled" in m.plain]
        assert len(pushes) == 1
