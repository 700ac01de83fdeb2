"""The IP gate and the session it judges, with a paper broker and a fake IP echo on loopback:
the whitelist, each transition of the order verdict (and the one notice it sends), and the
session's daily re-login."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path

import pytest

from bot.accounts import IST, EgressChecker, Whitelist
from bot.accounts.gate import Gate
from bot.accounts.session import Session
from bot.clock import utcnow
from bot.errors import UserError
from bot.notify import AdminEvent, EgressIPChanged, OrdersBlocked, OrdersOpen, SessionCreated
from brokers.paper import PaperBroker
from tests.fakes.ip_echo import FakeIPEcho

PRIMARY, SECONDARY, ELSEWHERE = "203.0.113.10", "203.0.113.11", "198.51.100.99"
MAX_AGE = timedelta(minutes=3)


def test_whitelist_parses_compares_and_describes() -> None:
    both = Whitelist.of(PRIMARY, SECONDARY)
    assert both.configured
    assert both.allows(IPv4Address(SECONDARY)) and not both.allows(IPv4Address(ELSEWHERE))
    assert not both.allows(None)
    assert both.describe() == f"{PRIMARY} (primary) and {SECONDARY} (secondary)"
    mapped = IPv6Address(f"::ffff:{PRIMARY}")
    assert Whitelist.of(str(mapped), None).primary == IPv4Address(PRIMARY)  # same host
    assert not Whitelist.of(None, None).configured
    assert Whitelist.of("", None).describe() == "none configured"


@dataclass
class Rig:
    echo: FakeIPEcho
    gate: Gate
    session: Session
    notices: list[AdminEvent]
    clock: list[datetime]

    async def notices_sent(self) -> list[AdminEvent]:
        """The verdict's notices go out on their own tasks: let them run first."""
        for _ in range(3):
            await asyncio.sleep(0)
        return self.notices


def make_rig(tmp: Path, echo: FakeIPEcho, whitelist: Whitelist, *, checked: bool = True) -> Rig:
    notices: list[AdminEvent] = []
    clock = [utcnow()]

    async def note(event: AdminEvent) -> None:
        notices.append(event)

    broker = PaperBroker(tmp / "paper.json", tick_seconds=0)
    egress = EgressChecker([echo.url]) if checked else None
    gate = Gate(broker, whitelist, egress, note, max_age=MAX_AGE, now=lambda: clock[0])
    session = Session(
        broker,
        gate,
        totp=None,
        notify=note,
        session_file=None,
        relogin_at=time(8, 30),
        now=lambda: clock[0],
    )
    return Rig(echo, gate, session, notices, clock)


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    async with FakeIPEcho(PRIMARY) as echo:
        made = make_rig(tmp_path, echo, Whitelist.of(PRIMARY, SECONDARY))
        yield made
        await made.gate.close()


async def test_closed_until_both_the_ip_and_a_session_are_known(rig: Rig) -> None:
    assert "could not find out this server's IP address" in (rig.gate.ip_problem() or "")
    await rig.gate.refresh(rig.session)
    assert rig.gate.egress_ip == IPv4Address(PRIMARY) and rig.gate.ip_problem() is None
    assert rig.gate.blocked == "there is no broker session (not logged in yet)"
    rig.gate.check_orders_open()  # the IP is fine: a card may be shown, the login follows

    await rig.session.login("start-up")
    assert rig.gate.blocked is None
    notices = await rig.notices_sent()
    assert SessionCreated("paper", PRIMARY, "start-up") in notices
    assert [n for n in notices if isinstance(n, OrdersBlocked | OrdersOpen)] == [
        OrdersBlocked("paper", "there is no broker session (not logged in yet)"),
        OrdersOpen("paper"),
    ]


async def test_a_move_off_the_whitelist_closes_once_and_a_move_back_reopens(rig: Rig) -> None:
    await rig.gate.refresh(rig.session)
    await rig.session.login("start-up")
    await rig.notices_sent()
    rig.notices.clear()

    rig.echo.ip = ELSEWHERE
    await rig.gate.refresh(rig.session)
    await rig.gate.refresh(rig.session)  # the same verdict again: no second notice
    with pytest.raises(UserError) as err:
        rig.gate.check_orders_open()
    assert err.value.reason == "orders_blocked" and ELSEWHERE in err.value.text
    assert ELSEWHERE in (rig.gate.blocked or "")

    rig.echo.ip = SECONDARY
    await rig.gate.refresh(rig.session)
    assert rig.gate.blocked is None
    notices = await rig.notices_sent()
    assert notices[0] == EgressIPChanged(PRIMARY, ELSEWHERE)
    assert isinstance(notices[1], OrdersBlocked) and ELSEWHERE in notices[1].problem
    assert notices[2:] == [EgressIPChanged(ELSEWHERE, SECONDARY), OrdersOpen("paper")]


async def test_an_unanswered_check_keeps_the_last_good_reading(rig: Rig) -> None:
    first = await rig.gate.refresh(rig.session)
    rig.echo.down = True
    assert await rig.gate.refresh(rig.session) is first
    assert rig.gate.egress_ip == IPv4Address(PRIMARY)
    assert rig.gate.egress_error is not None and "HTTP 503" in rig.gate.egress_error
    rig.echo.down = False
    await rig.gate.refresh(rig.session)
    assert rig.gate.egress_error is None


async def test_a_reading_older_than_its_maximum_age_is_no_reading(rig: Rig) -> None:
    await rig.gate.refresh(rig.session)
    await rig.session.login("start-up")
    rig.echo.down = True
    rig.clock[0] += MAX_AGE - timedelta(seconds=1)
    await rig.gate.refresh(rig.session)
    rig.gate.check_orders_open()  # the last answer is still young enough
    assert rig.gate.egress_ip == IPv4Address(PRIMARY)

    rig.clock[0] += timedelta(seconds=2)  # no check at all: the reading ages on its own
    assert rig.gate.egress_ip is None
    with pytest.raises(UserError) as err:
        rig.gate.check_orders_open()
    assert err.value.reason == "orders_blocked"
    assert "have not answered for 3 min 1 s (127.0.0.1 answered HTTP 503" in err.value.text
    await rig.gate.refresh(rig.session)
    assert "have not answered" in (rig.gate.blocked or "")
    assert rig.gate.reading is not None  # still shown as the last one that answered

    rig.echo.down = False
    await rig.gate.refresh(rig.session)
    rig.gate.check_orders_open()
    assert rig.gate.blocked is None
    notices = await rig.notices_sent()
    assert EgressIPChanged(PRIMARY, PRIMARY) not in notices  # the same IP came back


async def test_without_a_whitelist_the_broker_decides(tmp_path: Path) -> None:
    async with FakeIPEcho(ELSEWHERE) as echo:
        made = make_rig(tmp_path, echo, Whitelist())
        try:
            await made.gate.refresh(made.session)
            await made.session.login("start-up")
            assert made.gate.ip_problem() is None and made.gate.blocked is None
            made.gate.check_orders_open()
        finally:
            await made.gate.close()


async def test_without_ip_services_a_whitelist_fails_closed(tmp_path: Path) -> None:
    async with FakeIPEcho(PRIMARY) as echo:
        made = make_rig(tmp_path, echo, Whitelist.of(PRIMARY, None), checked=False)
        assert await made.gate.refresh(made.session) is None
        await made.session.login("start-up")
        with pytest.raises(UserError) as err:
            made.gate.check_orders_open()
        assert "could not find out this server's IP address (no answer)" in err.value.text
        assert echo.hits == 0


async def test_the_daily_relogin_comes_once_its_time_has_passed(rig: Rig) -> None:
    await rig.gate.refresh(rig.session)
    await rig.session.login("start-up")
    due = rig.session.next_relogin
    assert due is not None and due.astimezone(IST).time() == time(8, 30)

    rig.clock[0] = due - timedelta(minutes=1)
    await rig.session.maintain()
    rig.clock[0] = due + timedelta(minutes=1)
    await rig.session.maintain()
    reasons = [n.reason for n in rig.notices if isinstance(n, SessionCreated)]
    assert reasons == ["start-up", "daily re-login"]
