"""An account (gate, session, call policy) against the Kotak simulator and a fake IP echo
service, over loopback (the rig: `rig.py`)."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from bot.accounts import Account, EgressChecker, SlidingWindowLimiter, TotpSource, Whitelist
from bot.clock import utcnow
from bot.errors import ConfigError, UserError
from bot.notify import (
    AdminEvent,
    LoginFailing,
    OrdersBlocked,
    OrdersOpen,
    SessionCreated,
    SessionLapsed,
)
from bot.settings import load_settings
from brokers.errors import AuthError, BrokerError, IPNotWhitelisted
from brokers.kotak import KotakBroker
from tests.fakes.ip_echo import FakeIPEcho
from tests.fakes.kotak_sim import KotakSimulator, kotak_config
from tests.unit.accounts.rig import (
    ELSEWHERE,
    PRIMARY,
    SECONDARY,
    SEED,
    Rig,
    make_account,
)


async def test_start_logs_in_from_the_whitelisted_ip(rig: Rig) -> None:
    status = rig.account.status()
    assert status.orders_open and status.session_ip == PRIMARY == status.egress_ip
    assert status.egress_source == rig.echo.url
    assert rig.logins() == 1
    assert SessionCreated("kotak", PRIMARY, "start-up") in rig.notices


async def test_ip_drift_blocks_orders_and_a_whitelisted_ip_reopens_them(rig: Rig) -> None:
    assert await rig.account.place(await rig.order())
    rig.move_to(ELSEWHERE)
    await rig.account.tick()
    status = rig.account.status()
    assert not status.orders_open and ELSEWHERE in (status.blocked_reason or "")
    with pytest.raises(UserError) as err:
        await rig.account.place(await rig.order())
    assert err.value.reason == "orders_blocked"
    assert ELSEWHERE in err.value.text and PRIMARY in err.value.text and SECONDARY in err.value.text
    assert rig.places() == 1  # nothing left the host
    assert len(await rig.account.orders()) == 1  # reads keep working

    rig.move_to(SECONDARY)
    await rig.account.tick()
    status = rig.account.status()
    assert status.orders_open and status.session_ip == SECONDARY
    assert await rig.account.place(await rig.order("TBTEST2"))
    assert rig.places() == 2 and len(rig.sim.orders) == 2
    assert rig.logins() == 2
    assert any(isinstance(n, OrdersBlocked) for n in rig.notices)
    assert OrdersOpen("kotak") in rig.notices


async def test_1037_recreates_the_session_and_retries_once(rig: Rig) -> None:
    rig.move_to(SECONDARY)  # the host moved; the account's timer has not noticed yet
    order_id = await rig.account.place(await rig.order())
    assert order_id in rig.sim.orders
    assert rig.places() == 2 and rig.logins() == 2
    assert rig.account.status().session_ip == SECONDARY
    assert len(rig.sim.orders) == 1


async def test_100008_on_a_whitelisted_ip_relogs_in_and_retries_only_once(rig: Rig) -> None:
    rig.move_to(SECONDARY)
    rig.sim.whitelisted_ips = {PRIMARY}  # the broker has not taken the secondary yet
    with pytest.raises(IPNotWhitelisted):
        await rig.account.place(await rig.order())
    assert rig.places() == 2 and rig.logins() == 2
    assert rig.sim.orders == {}


async def test_100008_on_a_non_whitelisted_ip_explains_and_does_not_retry(rig: Rig) -> None:
    rig.move_to(ELSEWHERE)  # not yet noticed by the timer
    with pytest.raises(UserError) as err:
        await rig.account.place(await rig.order())
    assert err.value.reason == "ip_not_whitelisted"
    assert "(broker code 100008)" in err.value.text and ELSEWHERE in err.value.text
    assert rig.places() == 1 and rig.logins() == 1
    assert not rig.account.status().orders_open


async def test_an_expired_session_logs_in_again(rig: Rig) -> None:
    rig.sim.expire_sessions()
    assert await rig.account.orders() == []
    assert rig.logins() == 2
    assert SessionLapsed("kotak") in rig.notices


async def test_totp_codes_are_never_reused(rig: Rig) -> None:
    rig.sim.expire_sessions()
    await rig.account.orders()
    assert len(rig.codes) == 2
    assert rig.codes[0] != rig.codes[1]


async def test_session_file_is_owner_only_and_a_restart_resumes_it(rig: Rig) -> None:
    path = rig.tmp / "session-kotak.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    saved = json.loads(path.read_text())["data"]
    assert saved["token"] and saved["sid"]  # today's session tokens are what is being kept
    second = make_account(rig.sim, rig.echo, rig.tmp, [])
    await second.start()
    try:
        assert rig.logins() == 1  # resumed, no new login
        assert second.status().orders_open and second.status().resumed
        assert await second.place(await rig.order())
    finally:
        await second.stop()


async def test_the_session_file_holds_no_configured_secret(rig: Rig) -> None:
    """The access token, MPIN, mobile number and TOTP seed are long-lived credentials: only the
    session's own tokens may be at rest (the access token is kept as a hash, to compare)."""
    text = (rig.tmp / "session-kotak.json").read_text()
    mobile_digits = "9876543210"
    for secret in (rig.sim.access_token, rig.sim.mpin, SEED, mobile_digits):
        assert secret not in text


async def test_an_old_session_file_with_the_plain_token_is_replaced_by_a_login(rig: Rig) -> None:
    path = rig.tmp / "session-kotak.json"
    old = json.loads(path.read_text())
    del old["data"]["access_token_sha256"]
    old["data"]["access_token"] = rig.sim.access_token  # as written before issue 10
    path.write_text(json.dumps(old))
    second = make_account(rig.sim, rig.echo, rig.tmp, [])
    await second.start()
    try:
        assert rig.logins() == 2  # not resumed from the old form
        assert second.status().orders_open and not second.status().resumed
        assert rig.sim.access_token not in path.read_text()  # upgraded by the login's save
    finally:
        await second.stop()


async def test_many_callers_of_an_expired_session_make_one_login(rig: Rig) -> None:
    rig.sim.expire_sessions()
    reads = [rig.account.orders() for _ in range(20)]
    places = [rig.account.place(await rig.order(f"ONE{i}")) for i in range(5)]
    results = await asyncio.gather(*reads, *places)
    assert rig.logins() == 2  # start-up, then exactly one for all 25 callers
    assert len(rig.codes) == 2
    placed = results[20:]
    assert sorted(placed) == sorted(rig.sim.orders)  # each order once, none doubled
    assert [n for n in rig.notices if isinstance(n, SessionLapsed)] == [SessionLapsed("kotak")]


async def test_a_failed_login_is_shared_by_every_caller_waiting_for_it(rig: Rig) -> None:
    rig.sim.mpin = "135790"  # the broker no longer takes the configured MPIN
    rig.sim.expire_sessions()
    results = await asyncio.gather(
        *(rig.account.funds() for _ in range(10)), return_exceptions=True
    )
    assert all(isinstance(r, BrokerError | UserError) for r in results)
    assert any(isinstance(r, AuthError) for r in results)
    assert len(rig.sim.calls_of("validate")) == 2  # start-up, then one failed login for all ten
    assert len([n for n in rig.notices if isinstance(n, LoginFailing)]) == 1


async def test_an_old_egress_reading_blocks_orders_after_three_check_intervals(
    tmp_path: Path,
) -> None:
    """Paper, so that only the IP services answer (Kotak's own client-IP view would count too)."""
    from brokers.paper import PaperBroker

    clock = [utcnow()]
    async with FakeIPEcho(PRIMARY) as echo:
        account = Account(
            PaperBroker(tmp_path / "paper.json", tick_seconds=0),
            SlidingWindowLimiter(10, 1.0),
            whitelist=Whitelist.of(PRIMARY, None),
            egress=EgressChecker([echo.url]),
            check_every=60,
            now=lambda: clock[0],
        )
        await account.start()
        try:
            echo.down = True
            clock[0] += timedelta(seconds=170)
            await account.tick()
            assert account.status().orders_open  # the last answer is 170 s old: still good
            clock[0] += timedelta(seconds=20)
            await account.tick()
            status = account.status()
            assert not status.orders_open and status.egress_ip is None
            assert "have not answered for 3 min 10 s" in (status.blocked_reason or "")
            with pytest.raises(UserError) as err:
                account.check_orders_open()
            assert err.value.reason == "orders_blocked"
            echo.down = False
            await account.tick()
            assert account.status().orders_open
        finally:
            await account.stop()


async def test_a_wrong_mpin_is_reported_once_and_backs_off(tmp_path: Path) -> None:
    async with KotakSimulator(expected_totp=lambda c: True) as sim, FakeIPEcho(PRIMARY) as echo:
        sim.egress_ip = PRIMARY
        notices: list[AdminEvent] = []
        account = Account(
            KotakBroker(kotak_config(sim, tmp_path, mpin="000000")),
            SlidingWindowLimiter(10, 1.0),
            whitelist=Whitelist.of(PRIMARY, None),
            egress=EgressChecker([echo.url]),
            totp=TotpSource(SEED),
            notify=lambda event: _append(notices, event),
            check_every=3600,
        )
        await account.start()
        for _ in range(3):
            await account.tick()
        status = account.status()
        assert not status.orders_open and status.last_error
        assert len(sim.calls_of("validate")) == 1  # backing off: no retry loop
        failures = [n for n in notices if isinstance(n, LoginFailing)]
        assert len(failures) == 1 and "000000" not in failures[0].error
        with pytest.raises(UserError) as err:
            await account.funds()
        assert err.value.reason == "no_session" and "try again at" in err.value.text
        await account.stop()


async def test_an_unreachable_ip_service_fails_closed_with_one_clear_reason(
    tmp_path: Path,
) -> None:
    async with KotakSimulator(expected_totp=lambda c: True) as sim, FakeIPEcho(PRIMARY) as echo:
        echo.down = True
        notices: list[AdminEvent] = []
        account = make_account(sim, echo, tmp_path, notices)
        await account.start()
        with pytest.raises(UserError) as err:
            rig = Rig(sim, echo, account, notices, tmp_path)
            await account.place(await rig.order())
        assert "could not find out this server's IP address" in err.value.text
        assert "HTTP 503" in err.value.text
        assert len(sim.calls_of("place")) == 0
        await account.stop()


async def test_clock_skew_is_measured_against_the_broker(rig: Rig) -> None:
    from datetime import timedelta

    rig.echo.skew_seconds = -100  # the broker's clock is the one TOTP is checked against
    rig.sim.clock_skew = timedelta(seconds=40)
    await rig.account.orders()
    await rig.account.tick()
    status = rig.account.status()
    assert status.skew_seconds is not None and 35 < status.skew_seconds < 45
    assert any("clock is off by +" in w for w in status.warnings)


async def test_clock_skew_falls_back_to_the_ip_service(tmp_path: Path) -> None:
    from brokers.paper import PaperBroker

    async with FakeIPEcho(PRIMARY) as echo:
        echo.skew_seconds = 40
        account = Account(
            PaperBroker(tmp_path / "paper.json", tick_seconds=0),
            SlidingWindowLimiter(10, 1.0),
            egress=EgressChecker([echo.url]),
            check_every=3600,
        )
        await account.start()
        try:
            skew = account.status().skew_seconds
            assert skew is not None and 35 < skew < 45
        finally:
            await account.stop()


def test_a_bad_totp_seed_is_a_config_error_without_the_value() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(
            _env_file=None,
            telegram_bot_token="1:abc",
            telegram_allowed_users="1",
            broker_totp_secret="123456",
        )
    assert "BROKER_TOTP_SECRET: that looks like a 6-digit code" in str(err.value)
    assert "123456" not in str(err.value)


async def test_totp_source_waits_for_the_next_step() -> None:
    now = [1_000_000.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    source = TotpSource(SEED, clock=lambda: now[0], sleep=sleep)
    first = await source.fresh_code()
    second = await source.fresh_code()
    assert first != second and len(slept) == 1
    assert int(now[0] // 30) == int(1_000_000.0 // 30) + 1


async def _append(items: list[AdminEvent], event: AdminEvent) -> None:
    items.append(event)
