"""mStock login in two steps, the JWT's end, resume, and the account logging in again when the
session reaches its end (before the broker refuses it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest

from bot.accounts import Account, SlidingWindowLimiter, TotpSource
from bot.notify import AdminEvent, SessionCreated
from brokers.errors import AuthError, SessionExpired
from brokers.mstock import MStockBroker
from brokers.mstock.auth import session_end
from brokers.mstock.constants import IST
from tests.fakes.mstock_sim import SIM_TOTP, MStockSimulator, fake_jwt, mstock_config
from tests.fakes.totp_clock import SkipAheadClock


async def test_login_is_two_steps_with_the_right_headers(
    msim: MStockSimulator, mbroker: MStockBroker
) -> None:
    login, verify = msim.calls_of("login")[0], msim.calls_of("verifytotp")[0]
    assert login.json == {"clientcode": msim.client_code, "password": msim.password, "totp": "",
                          "state": ""}  # fmt: skip
    assert "x-privatekey" not in login.headers and "authorization" not in login.headers
    assert verify.headers["x-privatekey"] == msim.api_key
    assert "authorization" not in verify.headers
    assert set(verify.json) == {"refreshToken", "totp"} and verify.json["totp"] == SIM_TOTP
    await mbroker.orders()
    read = msim.calls_of("orders")[0]
    assert (
        read.headers["authorization"].startswith("Bearer ")
        and read.headers["x-mirae-version"] == "1"
    )
    assert "content-type" not in read.headers  # never the SDK's literal "None" (ref §1)


async def test_a_wrong_totp_or_password_is_an_auth_error(
    msim: MStockSimulator, tmp_path: Path
) -> None:
    broker = MStockBroker(mstock_config(msim, tmp_path))
    with pytest.raises(AuthError, match="Please enter correct TOTP"):
        await broker.login("000000")
    msim.password = "changed"
    with pytest.raises(AuthError, match="Invalid username or password"):
        await broker.login(SIM_TOTP)
    await broker.close()


def test_the_session_ends_at_midnight_ist_or_the_tokens_exp() -> None:
    made = datetime(2026, 9, 1, 9, 15, tzinfo=IST)
    assert session_end(made, "not-a-jwt") == datetime(2026, 9, 1, 21, 15, tzinfo=IST)  # 12 h
    evening = datetime(2026, 9, 1, 18, 0, tzinfo=IST)
    assert session_end(evening, "x") == datetime(2026, 9, 2, 0, 0, tzinfo=IST)  # midnight
    soon = made + timedelta(hours=2)
    assert session_end(made, fake_jwt("MA1", soon)) == soon.replace(microsecond=0)


async def test_resume_refuses_an_ended_or_foreign_session(
    msim: MStockSimulator, mbroker: MStockBroker, tmp_path: Path
) -> None:
    saved = mbroker.export_session()
    assert saved is not None and msim.api_key not in saved.values()
    other = MStockBroker(mstock_config(msim, tmp_path / "b"))
    info = await other.resume_session(saved)
    assert info.account == msim.client_code and info.expires_at is not None
    assert await other.orders() == []
    stale = {**saved, "created_at": (datetime.now(UTC) - timedelta(days=1)).isoformat()}
    with pytest.raises(SessionExpired):
        await other.resume_session(stale)
    foreign = MStockBroker(mstock_config(msim, tmp_path / "c", api_key="another-key"))
    with pytest.raises(SessionExpired, match="different API key"):
        await foreign.resume_session(saved)
    await other.close()
    await foreign.close()


async def test_the_account_logs_in_again_when_the_session_ends(tmp_path: Path) -> None:
    seed = pyotp.random_base32()
    clock = SkipAheadClock()
    async with MStockSimulator(expected_totp=clock.verifies(seed)) as sim:
        ends = datetime.now(UTC) + timedelta(hours=1)
        sim.session_end = ends
        now = [datetime.now(UTC)]
        notices: list[AdminEvent] = []

        async def note(event: AdminEvent) -> None:
            notices.append(event)

        account = Account(
            MStockBroker(mstock_config(sim, tmp_path)),
            SlidingWindowLimiter(10, 1.0),
            totp=TotpSource(seed, clock=clock, sleep=clock.sleep),
            notify=note,
            check_every=3600,
            now=lambda: now[0],
        )
        await account.start()
        status = account.status()
        assert status.next_relogin is not None
        assert abs((status.next_relogin - ends).total_seconds()) < 1
        now[0] = ends - timedelta(minutes=1)
        await account.tick()
        assert len(sim.calls_of("verifytotp")) == 1
        now[0] = ends + timedelta(seconds=1)
        await account.tick()
        assert len(sim.calls_of("verifytotp")) == 2
        assert [n.reason for n in notices if isinstance(n, SessionCreated)][-1] == (
            "daily re-login"
        )
        await account.stop()
