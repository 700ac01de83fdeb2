"""The whole bot with BROKER=kotak: the Kotak simulator, a fake IP echo and the fake Telegram
server, all on loopback. Only base URLs differ from production."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pyotp
import pytest

from tests.e2e.harness import ADMIN, BotHarness
from tests.fakes.ip_echo import FakeIPEcho
from tests.fakes.kotak_sim import KotakSimulator
from tests.fakes.totp_clock import SkipAheadClock

PRIMARY, SECONDARY, ELSEWHERE = "203.0.113.10", "203.0.113.11", "198.51.100.99"
SEED = pyotp.random_base32()


def kotak_settings(sim: KotakSimulator, echo: FakeIPEcho, **extra: Any) -> dict[str, Any]:
    return {
        "broker": "kotak",
        "kotak_login_url": sim.login_url,
        "broker_mobile": "9876543210",
        "broker_api_key": sim.ucc,
        "broker_api_secret": sim.access_token,
        "broker_mpin": sim.mpin,
        "broker_totp_secret": SEED,
        "static_ip_primary": PRIMARY,
        "static_ip_secondary": SECONDARY,
        "ip_check_urls": echo.url,
        **extra,
    }


@pytest.fixture
async def parts(totp_clock: SkipAheadClock) -> AsyncIterator[tuple[KotakSimulator, FakeIPEcho]]:
    """The simulator checks TOTP codes against `totp_clock`; a harness that logs in more than
    once passes the same clock, so it never waits for a real TOTP step."""
    async with (
        KotakSimulator(expected_totp=totp_clock.verifies(SEED)) as sim,
        FakeIPEcho(PRIMARY) as echo,
    ):
        sim.egress_ip = PRIMARY
        yield sim, echo


def move(sim: KotakSimulator, echo: FakeIPEcho, ip: str) -> None:
    sim.egress_ip = echo.ip = ip


async def wait_session(h: BotHarness, words: str) -> None:
    for _ in range(40):
        if words in (await h.say(ADMIN, "/session")).plain:
            return
        await asyncio.sleep(0.25)
    raise AssertionError(f"/session never said {words!r}")


async def test_kotak_conversation(
    tmp_path: Path, parts: tuple[KotakSimulator, FakeIPEcho], totp_clock: SkipAheadClock
) -> None:
    sim, echo = parts
    async with BotHarness(tmp_path, totp_clock=totp_clock, **kotak_settings(sim, echo)) as h:
        assert len(sim.calls_of("login")) == 1 and len(sim.calls_of("validate")) == 1
        quote = await h.say(ADMIN, "/quote NSE:SBIN")
        assert "NSE:SBIN 812.35" in quote.plain

        card = await h.say(ADMIN, "/buy NSE:SBIN 10")
        assert "market → limit 816.45 = LTP 812.35 + 0.5%, rounded up to tick 0.05" in card.plain
        placed = await h.confirm(ADMIN, card)
        [call] = sim.calls_of("place")
        assert call.jdata is not None
        assert {k: call.jdata[k] for k in ("pt", "pr", "qt", "tt", "ts", "es", "pc")} == {
            "pt": "L",
            "pr": "816.45",
            "qt": "10",
            "tt": "B",
            "ts": "SBIN-EQ",
            "es": "nse_cm",
            "pc": "CNC",
        }
        assert call.jdata["ig"].startswith("TB")
        [order_no] = sim.orders
        assert order_no in placed.plain

        sim.fill(order_no)
        fill = await h.telegram.wait_for(
            lambda t: next((m for m in t.messages(ADMIN) if "Filled" in m.text), None),
            what="a fill notification",
        )
        assert order_no in fill.plain
        positions = await h.say(ADMIN, "/positions")
        assert "NSE:SBIN" in positions.plain

        card = await h.say(ADMIN, "/buy NSE:SBIN 5 @750")  # rests, inside the day's band
        await h.confirm(ADMIN, card)
        resting = next(no for no in sim.orders if no != order_no)
        card = await h.say(ADMIN, f"/cancel {resting}")
        await h.confirm(ADMIN, card, "Cancel sent")
        assert len(sim.calls_of("cancel")) == 1
        await h.telegram.wait_for(
            lambda t: any("Cancelled" in m.text for m in t.messages(ADMIN)),
            what="a cancellation notification",
        )

        refused = await h.say(ADMIN, f"/buy {sim.untraded_key} 65")
        assert f"{sim.untraded_key} has no last traded price" in refused.plain
        assert len(sim.calls_of("place")) == 2


async def test_wrong_ip_refuses_buy_keeps_reads_and_recovers(
    tmp_path: Path, parts: tuple[KotakSimulator, FakeIPEcho], totp_clock: SkipAheadClock
) -> None:
    sim, echo = parts
    settings = kotak_settings(sim, echo, session_check_seconds=1)
    async with BotHarness(tmp_path, totp_clock=totp_clock, **settings) as h:
        move(sim, echo, ELSEWHERE)
        await wait_session(h, "Orders: ⛔ blocked")
        # The notices go through the outbox: wait for them, so the next message is the reply.
        await h.telegram.wait_for(
            lambda t: any("Orders blocked" in m.plain for m in t.messages(ADMIN)),
            what="the blocked notice",
        )
        refused = await h.say(ADMIN, "/buy NSE:SBIN 1 @800")
        assert refused.plain.startswith("Orders are blocked: this server's IP address is")
        assert ELSEWHERE in refused.plain and PRIMARY in refused.plain
        assert refused.reply_markup is None
        positions = await h.say(ADMIN, "/positions")
        assert "No open positions." in positions.plain

        move(sim, echo, PRIMARY)
        await wait_session(h, "Orders: ✅ open")
        await h.telegram.wait_for(
            lambda t: any("Orders are open again" in m.plain for m in t.messages(ADMIN)),
            what="the open notice",
        )
        card = await h.say(ADMIN, "/buy NSE:SBIN 1 @800")
        await h.confirm(ADMIN, card)
        assert len(sim.calls_of("place")) == 1 and len(sim.orders) == 1


async def test_1037_is_recovered_by_a_new_session(
    tmp_path: Path, parts: tuple[KotakSimulator, FakeIPEcho], totp_clock: SkipAheadClock
) -> None:
    sim, echo = parts
    settings = kotak_settings(sim, echo, session_check_seconds=3600)
    async with BotHarness(tmp_path, totp_clock=totp_clock, **settings) as h:
        card = await h.say(ADMIN, "/buy NSE:SBIN 1 @800")
        move(sim, echo, SECONDARY)  # the host moved between the card and the tap
        # The new login takes the next TOTP step (a code is never reused); the clock skips
        # ahead to it instead of waiting up to 30 s.
        placed = await h.confirm(ADMIN, card)
        [order_no] = sim.orders
        assert order_no in placed.plain
        assert len(sim.calls_of("place")) == 2 and len(sim.calls_of("login")) == 2
        session = await h.say(ADMIN, "/session")
        assert f"Session IP: {SECONDARY}" in session.plain
