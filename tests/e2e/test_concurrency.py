"""Nobody waits on anybody: updates are handled concurrently, and the compare-and-set on a
confirmation still lets exactly one of many simultaneous taps through. The real bot, the fake
Telegram server and a paper broker that the test can slow down or count."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from brokers.models import OrderRequest, Position
from brokers.paper import PaperBroker
from tests.e2e.harness import ADMIN, TRADER, BotHarness


class SteeredPaper(PaperBroker):
    """The paper broker with a positions read that waits until the test releases it, and a
    count of the place requests that reach it."""

    def __init__(self, state_path: Path) -> None:
        super().__init__(state_path, capital=Decimal(1_000_000), tick_seconds=0, seed=7)
        self.release_positions = asyncio.Event()
        self.places = 0

    async def positions(self) -> list[Position]:
        await self.release_positions.wait()
        return await super().positions()

    async def place_order(self, request: OrderRequest) -> str:
        self.places += 1
        return await super().place_order(request)


async def test_a_slow_broker_read_for_one_user_does_not_delay_another(tmp_path: Path) -> None:
    broker = SteeredPaper(tmp_path / "paper.json")
    async with BotHarness(tmp_path, instance=broker) as h:
        before = len(h.telegram.messages(ADMIN))
        h.telegram.send_text(ADMIN, "/positions")  # stuck at the broker until released
        quote = await h.say(TRADER, "/quote NSE:SBIN")
        assert "NSE:SBIN" in quote.plain
        assert len(h.telegram.messages(ADMIN)) == before  # A is still waiting

        broker.release_positions.set()
        positions = await h.telegram.next_message(ADMIN, after=before, timeout=10)
        assert "No open positions." in positions.plain


async def test_of_100_simultaneous_confirm_taps_exactly_one_places(tmp_path: Path) -> None:
    broker = SteeredPaper(tmp_path / "paper.json")
    async with BotHarness(tmp_path, instance=broker) as h:
        card = await h.say(ADMIN, "/buy NSE:SBIN 1 @700")
        answers_before = len(h.telegram.callback_answers)
        ids = h.telegram.tap_many(ADMIN, card.message_id, h.button(card, "Confirm"), times=100)
        await h.telegram.wait_for(
            lambda t: len(t.callback_answers) - answers_before >= 100,
            timeout=20,
            what="an answer to each of the 100 taps",
        )
        await h.telegram.wait_for_edit(ADMIN, card.message_id, lambda t: "Placed" in t)

        assert len({h.telegram.handed_out[i] for i in ids}) == 1  # handed out in one batch
        answers = [a["text"] for a in h.telegram.callback_answers[answers_before:]]
        assert len(answers) == 100
        assert answers.count("Sending…") == 1
        assert answers.count("This was already answered; nothing more was done.") == 99
        assert broker.places == 1
        assert len(await broker.orders()) == 1
