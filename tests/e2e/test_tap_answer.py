"""When a Confirm tap is answered, with BROKER=kotak against the simulator: after the desk has
handed the order to the account, never after the broker's reply. The simulator holds each place
request (arrived, unanswered) until the test lets it go."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.e2e.harness import ADMIN, BotHarness
from tests.e2e.test_kotak import PRIMARY, SEED, kotak_settings
from tests.fakes.ip_echo import FakeIPEcho
from tests.fakes.kotak_sim import KotakSimulator
from tests.fakes.totp_clock import SkipAheadClock


class HeldPlaces(KotakSimulator):
    """The simulator, holding every place request once it has arrived until `release` is set:
    a broker that is slow to answer."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.places_arrived = 0
        self.release = asyncio.Event()

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if self._kind(request.method, request.path) == "place":
            self.places_arrived += 1
            await self.release.wait()
        return await super()._dispatch(request)


async def test_a_confirm_tap_is_answered_while_the_broker_has_not_replied(
    tmp_path: Path, totp_clock: SkipAheadClock
) -> None:
    async with (
        HeldPlaces(expected_totp=totp_clock.verifies(SEED)) as sim,
        FakeIPEcho(PRIMARY) as echo,
    ):
        sim.egress_ip = PRIMARY
        async with BotHarness(tmp_path, totp_clock=totp_clock, **kotak_settings(sim, echo)) as h:
            cards = [await h.say(ADMIN, f"/buy NSE:SBIN {n} @800") for n in (1, 2, 3)]
            for card in cards:
                h.telegram.tap(ADMIN, card.message_id, h.button(card, "Confirm"))
            answers = await h.telegram.wait_for(
                lambda t: t.callback_answers if len(t.callback_answers) == 3 else None,
                timeout=10,
                what="an answer to each of the three taps",
            )
            assert [a["text"] for a in answers] == ["Sending…"] * 3
            # Every tap was answered while the broker still held its order, unanswered.
            assert sim.orders == {}
            assert not any("Placed" in h.telegram.message(ADMIN, c.message_id).text for c in cards)
            sim.release.set()
            for card in cards:
                await h.telegram.wait_for_edit(ADMIN, card.message_id, lambda t: "Placed" in t)
            assert sim.places_arrived == 3 and len(sim.orders) == 3
            assert len(h.telegram.callback_answers) == 3  # each tap answered once
