"""Start-up order: orders a crash left in SENDING are reconciled against the broker's order book
before the first Telegram update is handled, so a tap queued while the bot was down cannot race
the reconciliation; and no card of the earlier run keeps its buttons."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bot.store.connection import Store
from brokers.models import Order, OrderRequest, OrderType, Product, Side
from brokers.paper import PaperBroker
from tests.e2e.harness import ADMIN, BotHarness


class SlowBookPaper(PaperBroker):
    """The paper broker with an order book that takes `delay` seconds to read; notes when
    each read returned."""

    def __init__(self, state_path: Path, delay: float) -> None:
        super().__init__(state_path, capital=Decimal(1_000_000), tick_seconds=0, seed=7)
        self.delay = delay
        self.reads_done: list[float] = []

    async def orders(self) -> list[Order]:
        await asyncio.sleep(self.delay)
        book = await super().orders()
        self.reads_done.append(time.perf_counter())
        return book


async def _crash_mid_send(database: Path, broker: PaperBroker, tag: str) -> str:
    """What a crash between the broker's acknowledgement and our write-back leaves: an order
    row still SENDING, and the order in the broker's book under our tag."""
    store = await Store.open(database)
    try:
        await store.intents.add(
            "crashedintent",
            user_id=ADMIN,
            chat_id=ADMIN,
            action="place",
            payload={},
            expires_at=datetime.now(UTC) + timedelta(minutes=1),
        )
        await store.intents.transition("crashedintent", "PENDING", "SENDING", unexpired_at=None)
        await store.orders.add(
            tag, intent_id="crashedintent", broker="paper", user_id=ADMIN, chat_id=ADMIN,
            symbol="NSE:SBIN", side="BUY", quantity=2, price="700",
        )  # fmt: skip
    finally:
        await store.close()
    sbin = next(i for i in await broker.instruments() if i.key == "NSE:SBIN")
    request = OrderRequest(sbin, Side.BUY, 2, OrderType.LIMIT, Decimal(700), Product.CNC, tag)
    return await broker.place_order(request)


async def test_sending_orders_are_reconciled_before_a_queued_tap_is_handled(
    tmp_path: Path,
) -> None:
    """The card still waiting when the bot stopped is expired at start-up, over its order and
    without buttons; the tap queued on it meanwhile is answered after the reconciliation, and
    says it expired."""
    async with BotHarness(tmp_path) as h:
        card = await h.say(ADMIN, "/buy NSE:SBIN 1 @700")
        await h.stop()

        assert h.settings is not None
        slow = SlowBookPaper(h.settings.paper_state_path, delay=0.5)
        order_id = await _crash_mid_send(h.settings.database_path, slow, "TBCRASHED01")
        answers_before = len(h.telegram.callback_answers)
        h.telegram.tap(ADMIN, card.message_id, h.button(card, "Confirm"))  # while it was down
        h.broker = slow
        await h.start()

        await h.telegram.wait_for(
            lambda t: len(t.callback_answers) > answers_before, timeout=10, what="the tap answer"
        )
        answered_at = next(
            at
            for (name, _), at in zip(h.telegram.calls, h.telegram.arrivals, strict=True)
            if name == "answerCallbackQuery"
        )
        assert "expired" in h.telegram.callback_answers[answers_before]["text"]
        ended = h.telegram.message(ADMIN, card.message_id)
        assert "⌛ Expired: BUY" in ended.plain and "BUY 1 NSE:SBIN" in ended.plain
        assert ended.reply_markup is None
        assert len(await slow.orders()) == 1  # only the crashed one: the tap sent nothing
        assert slow.reads_done, "the order book was never read"
        assert slow.reads_done[0] < answered_at  # reconciled first, then the tap

        store = await Store.open(h.settings.database_path)
        try:
            row = await store.orders.by_tag("TBCRASHED01")
        finally:
            await store.close()
        assert row is not None
        assert (row.broker_order_id, row.status) == (order_id, "OPEN")
