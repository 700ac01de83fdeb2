"""Exits from positions, end to end: /positions buttons, a partial exit in lots, /exitall
through the rate limit, Refresh in place; the real bot, the fake Telegram server, paper."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from decimal import Decimal
from pathlib import Path

from brokers.models import Instrument, InstrumentKind, OrderRequest, OrderType, Product, Side
from brokers.paper import PaperBroker
from tests.e2e.harness import ADMIN, VIEWER, BotHarness


class _Timed(PaperBroker):
    """Paper, noting when each order arrives (to see the rate limit at work)."""

    arrivals: list[float]

    async def place_order(self, request: OrderRequest) -> str:
        self.arrivals.append(time.monotonic())
        return await super().place_order(request)


async def _future(broker: PaperBroker) -> Instrument:
    return next(
        i
        for i in await broker.instruments()
        if i.kind is InstrumentKind.FUTURE and i.underlying == "NIFTY"
    )


async def _hold(broker: PaperBroker, key: str, quantity: int, product: Product) -> None:
    """A filled BUY straight at the paper broker: the position the test starts from."""
    [instrument] = [i for i in await broker.instruments() if i.key == key]
    [quote] = (await broker.quotes([instrument])).values()
    assert quote.ltp is not None
    request = OrderRequest(
        instrument=instrument,
        side=Side.BUY,
        quantity=quantity,
        order_type=OrderType.LIMIT,
        price=quote.ltp,
        product=product,
        tag="",
    )
    await broker.place_order(request)
    broker.set_price(key, quote.ltp)
    await asyncio.sleep(0)


def _labels(message) -> list[str]:  # type: ignore[no-untyped-def]
    assert message.reply_markup, message.text
    return [b["text"] for row in message.reply_markup["inline_keyboard"] for b in row]


async def test_exit_half_of_a_four_lot_future_is_a_two_lot_sell_card_with_its_product(
    tmp_path: Path,
) -> None:
    broker = PaperBroker(tmp_path / "paper.json", capital=Decimal(10**9), tick_seconds=0)
    async with BotHarness(tmp_path, instance=broker) as h:
        future = await _future(broker)
        await _hold(broker, future.key, 4 * 65, Product.MIS)
        listed = await h.say(ADMIN, "/positions")
        assert f"1. {future.key} MIS: 260 @" in listed.plain
        assert _labels(listed) == [
            "1: Exit 25%", "1: Exit 50%", "1: Exit 100%", "1: 🔔 Alert", "🔄 Refresh"
        ]  # fmt: skip
        data = h.button(listed, "1: Exit 50%")
        assert re.fullmatch(r"px:[0-9a-f]{8}:50@paper", data) and len(data.encode()) <= 64

        before = len(h.telegram.messages(ADMIN))
        answer = await h.tap(ADMIN, listed, data)
        assert answer["text"] == "Confirm on the card below; nothing is sent before."
        card = await h.telegram.next_message(ADMIN, after=before, timeout=10)
        assert f"SELL 130 {future.key} · MIS" in card.plain
        assert "2 lots of 65 (130 units)" in card.plain and "limit order" in card.plain
        assert len(await broker.orders()) == 1  # nothing sent by the tap

        await h.confirm(ADMIN, card)
        exit_order = (await broker.orders())[-1]
        assert (exit_order.side, exit_order.quantity, exit_order.product) == (
            Side.SELL,
            130,
            Product.MIS,
        )
        assert exit_order.order_type is OrderType.LIMIT

        # The list shown before is out of date now: its button is refused, nothing prepared.
        exit_price = exit_order.price
        broker.set_price(future.key, exit_price)  # the exit fills; 2 lots remain
        await asyncio.sleep(0.1)
        again = await h.tap(ADMIN, listed, h.button(listed, "1: Exit 100%"))
        assert again["text"] == (
            "That position has changed or closed since the list was shown; nothing was "
            "prepared. Send /positions again."
        )


async def test_refresh_edits_the_list_in_place_with_the_new_pnl(tmp_path: Path) -> None:
    broker = PaperBroker(tmp_path / "paper.json", capital=Decimal(10**9), tick_seconds=0)
    async with BotHarness(tmp_path, instance=broker) as h:
        await _hold(broker, "NSE:SBIN", 10, Product.MIS)
        listed = await h.say(ADMIN, "/positions")
        [position] = await broker.positions()
        assert position.ltp is not None
        broker.set_price("NSE:SBIN", position.ltp + 10)
        answer = await h.tap(ADMIN, listed, h.button(listed, "🔄 Refresh"))
        assert answer["text"] == "Refreshed"
        edited = await h.telegram.wait_for_edit(ADMIN, listed.message_id)
        assert "P&L +₹100.00" in edited.plain and "Updated " in edited.plain
        assert h.button(edited, "1: Exit 25%").startswith("px:")


async def test_a_viewer_sees_no_exit_buttons_and_the_alert_button_suggests_alerts(
    tmp_path: Path,
) -> None:
    broker = PaperBroker(tmp_path / "paper.json", capital=Decimal(10**9), tick_seconds=0)
    async with BotHarness(tmp_path, instance=broker) as h:
        await _hold(broker, "NSE:SBIN", 10, Product.CNC)
        broker.set_price("NSE:SBIN", Decimal("812.35"))
        listed = await h.say(VIEWER, "/positions")
        assert _labels(listed) == ["1: 🔔 Alert", "🔄 Refresh"]
        refused = await h.say(VIEWER, "/exitall")
        assert "cannot do this; it needs trader access" in refused.plain
        before = len(h.telegram.messages(VIEWER))
        await h.tap(VIEWER, listed, h.button(listed, "1: 🔔 Alert"))
        suggestion = await h.telegram.next_message(VIEWER, after=before, timeout=10)
        assert "/alert NSE:SBIN below 804.20" in suggestion.plain
        assert "/alert NSE:SBIN above 820.50" in suggestion.plain


async def test_exitall_is_one_card_and_confirm_sends_every_exit_through_the_limiter(
    tmp_path: Path,
) -> None:
    broker = _Timed(tmp_path / "paper.json", capital=Decimal(10**9), tick_seconds=0)
    broker.arrivals = []
    async with BotHarness(tmp_path, instance=broker, order_rate_limit=2) as h:
        future = await _future(broker)
        await _hold(broker, future.key, 3 * 65, Product.NRML)
        await _hold(broker, "NSE:SBIN", 10, Product.MIS)
        await _hold(broker, "NSE:INFY", 7, Product.CNC)
        broker.arrivals.clear()
        card = await h.say(ADMIN, "/exitall")
        assert "Confirm exits" in card.plain
        assert f"SELL 195 (3 lots) {future.key} · NRML · limit" in card.plain
        assert "SELL 10 NSE:SBIN · MIS · limit" in card.plain
        assert "SELL 7 NSE:INFY · CNC · limit" in card.plain
        assert await broker.orders() and broker.arrivals == []  # nothing sent yet

        tapped = time.monotonic()
        await h.confirm(ADMIN, card, within=15)
        done = await h.telegram.wait_for_edit(
            ADMIN, card.message_id, lambda t: t.count("Placed: order") == 3, timeout=15
        )
        # Placed, or already on to its fills: paper fills marketable exits on its next tick.
        assert done.plain.splitlines()[0] in (
            "✅ Placed exits",
            "◐ Partly filled exits",
            "✅ Filled exits",
        ), done.plain
        for key in (future.key, "NSE:SBIN", "NSE:INFY"):
            assert f"{key}: ✅ Placed: order" in done.plain
        exits = [o for o in await broker.orders() if o.side is Side.SELL]
        assert sorted((o.key, o.quantity, o.product) for o in exits) == sorted(
            [(future.key, 195, Product.NRML), ("NSE:SBIN", 10, Product.MIS),
             ("NSE:INFY", 7, Product.CNC)]
        )  # fmt: skip
        # Two orders a second at most: the third waited for the window (the limiter's work;
        # measured from the tap, which no order can leave before).
        assert len(broker.arrivals) == 3
        assert broker.arrivals[2] - tapped >= 1.0
        with sqlite3.connect(h.settings.database_path) as db:
            [(status,)] = db.execute("SELECT status FROM intents WHERE action = 'exits'")
        assert status == "DONE"
