"""`tradebot doctor`: the real checks over loopback (fake Telegram, IP echo, Kotak simulator)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyotp
import pytest

from bot.app.doctor import run_doctor
from bot.settings import load_settings
from brokers.errors import BrokerError
from brokers.paper import PaperBroker
from tests.fakes.ip_echo import FakeIPEcho
from tests.fakes.kotak_sim import KotakSimulator
from tests.fakes.telegram_server import DEFAULT_TOKEN, FakeTelegram

ROOT = Path(__file__).resolve().parents[3]
CHECKS = [
    "settings",
    "market hours",
    "Telegram token",
    "Telegram users",
    "egress IP",
    "clock skew",
    "broker login",
    "read-only call",
    "order permission",
]

MID_2026 = datetime(2026, 6, 15, 6, 0, tzinfo=UTC)


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(DEFAULT_TOKEN) as server:
        yield server


@pytest.fixture
async def echo() -> AsyncIterator[FakeIPEcho]:
    async with FakeIPEcho("203.0.113.10") as server:
        yield server


def settings_for(tmp: Path, telegram: FakeTelegram, echo: FakeIPEcho, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "telegram_bot_token": DEFAULT_TOKEN,
        "telegram_base_url": telegram.base_url,
        "telegram_allowed_users": "111,222:viewer",
        "ip_check_urls": echo.url,
        "static_ip_primary": echo.ip,
        "database_path": tmp / "bot.db",
        "paper_state_path": tmp / "paper.json",
        "paper_tick_seconds": 0,
    }
    values.update(overrides)
    return load_settings(_env_file=None, **values)


async def doctor(settings: Any, **kwargs: Any) -> tuple[int, list[str]]:
    lines: list[str] = []
    kwargs.setdefault("now", lambda: MID_2026)  # a date the shipped holiday calendar covers
    code = await run_doctor(settings, out=lines.append, color=False, **kwargs)
    return code, lines


def line_of(lines: list[str], check: str) -> str:
    found = [line for line in lines if line[2:].startswith(f"{check}:")]
    assert len(found) == 1, f"{check!r} should be reported once:\n" + "\n".join(lines)
    return found[0]


def paper(settings: Any) -> PaperBroker:
    return PaperBroker(settings.paper_state_path, capital=Decimal(500_000), tick_seconds=0)


async def test_all_green_on_a_whitelisted_host(
    tmp_path: Path, telegram: FakeTelegram, echo: FakeIPEcho
) -> None:
    settings = settings_for(tmp_path, telegram, echo)
    code, lines = await doctor(settings, broker=paper(settings))

    assert code == 0, "\n".join(lines)
    assert [line.split(":")[0][2:] for line in lines] == CHECKS
    assert all(line.startswith("✔ ") for line in lines), "\n".join(lines)
    assert "@test_bot" in line_of(lines, "Telegram token")
    assert "203.0.113.10" in line_of(lines, "egress IP")
    assert "whitelisted as the primary static IP" in line_of(lines, "egress IP")
    assert "₹5,00,000.00" in line_of(lines, "read-only call")  # Indian grouping
    assert "orders are open" in line_of(lines, "order permission")
    users = line_of(lines, "Telegram users")
    assert users == "✔ Telegram users: all 2 allowed users opened the bot"
    assert [c["chat_id"] for c in telegram.calls_of("getChat")] == [111, 222]
    assert telegram.calls_of("getMe") and not telegram.calls_of("getUpdates")
    assert echo.hits >= 1


async def test_settings_warnings_are_shown_without_failing(
    tmp_path: Path, telegram: FakeTelegram, echo: FakeIPEcho
) -> None:
    settings = settings_for(tmp_path, telegram, echo, telegram_allowed_users="111:trader")
    code, lines = await doctor(settings, broker=paper(settings))

    assert code == 0, "\n".join(lines)
    assert line_of(lines, "warning").startswith("! warning: TELEGRAM_ALLOWED_USERS names no admin")


async def test_colour_only_when_asked(
    tmp_path: Path, telegram: FakeTelegram, echo: FakeIPEcho
) -> None:
    settings = settings_for(tmp_path, telegram, echo, static_ip_primary="198.51.100.7")
    lines: list[str] = []
    await run_doctor(settings, out=lines.append, broker=paper(settings), color=True)
    assert line_of([line[5:] for line in lines], "settings")  # strip the colour prefix
    assert lines[0].startswith("\x1b[32m✔ settings:") and lines[0].endswith("\x1b[0m")
    assert any(line.startswith("\x1b[31m✘ order permission:") for line in lines)
    assert any(line.startswith("\x1b[33m! egress IP:") for line in lines)


async def test_on_paper_a_configured_whitelist_still_gates_orders(
    tmp_path: Path, telegram: FakeTelegram, echo: FakeIPEcho
) -> None:
    """The paper broker checks no IP, so the IP line only informs; but the bot's gate applies
    the whitelist that is set (a rehearsal of the live set-up), and the verdict is the gate's."""
    settings = settings_for(
        tmp_path, telegram, echo, static_ip_primary="198.51.100.7", static_ip_secondary=""
    )
    code, lines = await doctor(settings, broker=paper(settings))

    assert code == 1
    egress = line_of(lines, "egress IP")
    assert egress.startswith("! ") and egress.endswith("; the paper broker itself checks no IP")
    assert "203.0.113.10" in egress and "198.51.100.7" in egress
    verdict = line_of(lines, "order permission")
    assert verdict.startswith("✘ order permission: orders blocked: ") and "198.51.100.7" in verdict
    assert line_of(lines, "broker login").startswith("✔ ")  # reads still work


@pytest.mark.parametrize("down", [False, True])
async def test_on_paper_the_egress_ip_is_information_only(
    tmp_path: Path, telegram: FakeTelegram, echo: FakeIPEcho, down: bool
) -> None:
    """The paper set-up as it comes (no static IP): whatever the IP services say, orders are
    open in the bot, so the doctor says so too (it once failed "order permission" here)."""
    echo.down = down
    settings = settings_for(tmp_path, telegram, echo, static_ip_primary="")
    code, lines = await doctor(settings, broker=paper(settings))

    assert code == 0, "\n".join(lines)
    egress = line_of(lines, "egress IP")
    assert egress.startswith("✔ ") and egress.endswith("the paper broker checks no IP")
    expected = "unknown (127.0.0.1 answered HTTP 503" if down else "203.0.113.10"
    assert expected in egress
    verdict = line_of(lines, "order permission")
    assert verdict == "✔ order permission: orders are open (the paper broker fills them itself)"
    assert not [line for line in lines if line.startswith("✘")]


async def test_an_unknown_egress_ip_with_a_whitelist_is_the_gates_refusal(
    tmp_path: Path, telegram: FakeTelegram, echo: FakeIPEcho
) -> None:
    echo.down = True
    settings = settings_for(tmp_path, telegram, echo)
    code, lines = await doctor(settings, broker=paper(settings))

    assert code == 1
    egress = line_of(lines, "egress IP")
    assert egress.startswith("! egress IP: I could not find out this server's IP address")
    assert "HTTP 503" in egress
    assert line_of(lines, "order permission").startswith(
        "✘ order permission: orders blocked: I could not find out this server's IP address"
    )


@pytest.mark.parametrize(
    ("skew", "mark", "code", "way"), [(30, "✘", 1, "behind"), (-9, "!", 0, "ahead of")]
)
async def test_clock_skew(
    tmp_path: Path,
    telegram: FakeTelegram,
    echo: FakeIPEcho,
    skew: int,
    mark: str,
    code: int,
    way: str,
) -> None:
    echo.skew_seconds = skew
    settings = settings_for(tmp_path, telegram, echo)
    result, lines = await doctor(settings, broker=paper(settings))

    assert result == code, "\n".join(lines)
    line = line_of(lines, "clock skew")
    assert line.startswith(f"{mark} clock skew: this server's clock is "), line
    seconds = float(line.split("clock is ")[1].split(" s ")[0])
    assert abs(skew) - 1.5 <= seconds <= abs(skew) + 1.5  # the Date header has whole seconds
    assert f" s {way} " in line and "NTP" in line


async def test_a_refused_token_is_red_and_never_printed(
    tmp_path: Path, telegram: FakeTelegram, echo: FakeIPEcho
) -> None:
    wrong = "654321:WRONG-token_s3cr3t-value"
    settings = settings_for(tmp_path, telegram, echo, telegram_bot_token=wrong)
    code, lines = await doctor(settings, broker=paper(settings))

    assert code == 1
    token_line = line_of(lines, "Telegram token")
    assert token_line.startswith("✘ ") and "Telegram refused TELEGRAM_BOT_TOKEN" in token_line
    output = "\n".join(lines)
    assert wrong not in output and "s3cr3t" not in output
    assert line_of(lines, "Telegram users") == (
        "! Telegram users: not checked: the token does not work"
    )
    # Orders are the broker's business: the verdict is the gate's, whatever Telegram says.
    assert line_of(lines, "order permission").startswith("✔ ")


async def test_an_unreachable_telegram_is_red_with_the_reason(
    tmp_path: Path, telegram: FakeTelegram, echo: FakeIPEcho
) -> None:
    settings = settings_for(tmp_path, telegram, echo)
    await telegram.stop()  # nothing listens on its port now
    code, lines = await doctor(settings, broker=paper(settings))

    assert code == 1
    line = line_of(lines, "Telegram token")
    assert line.startswith("✘ Telegram token: Telegram could not be reached at 127.0.0.1")
    assert DEFAULT_TOKEN not in "\n".join(lines)


class LeakyBroker(PaperBroker):
    """A broker whose error text carries secrets: the doctor must still print none of them."""

    leak = ""

    async def funds(self) -> Any:
        raise BrokerError(f"refused for {self.leak}")


async def test_secrets_in_error_texts_are_scrubbed(
    tmp_path: Path, telegram: FakeTelegram, echo: FakeIPEcho
) -> None:
    settings = settings_for(
        tmp_path, telegram, echo, broker_mpin="918273", broker_api_secret="tok-abc123"
    )
    broker = LeakyBroker(settings.paper_state_path, capital=Decimal(1), tick_seconds=0)
    broker.leak = f"mpin 918273 token tok-abc123 bot {DEFAULT_TOKEN}"
    code, lines = await doctor(settings, broker=broker)

    assert code == 1
    funds = line_of(lines, "read-only call")
    assert funds == "✘ read-only call: funds: refused for mpin *** token *** bot ***"


@pytest.fixture
async def kotak() -> AsyncIterator[KotakSimulator]:
    async with KotakSimulator(stock_count=20) as sim:
        yield sim


def kotak_settings(
    tmp: Path, telegram: FakeTelegram, echo: FakeIPEcho, sim: KotakSimulator, seed: str, **kw: Any
) -> Any:
    values: dict[str, Any] = {
        "broker": "kotak",
        "kotak_login_url": sim.login_url,
        "broker_mobile": "98765 43210",
        "broker_api_key": sim.ucc,
        "broker_api_secret": sim.access_token,
        "broker_mpin": sim.mpin,
        "broker_totp_secret": seed,
    }
    values.update(kw)
    return settings_for(tmp, telegram, echo, **values)


async def test_kotak_login_and_funds_then_a_wrong_mpin(
    tmp_path: Path, telegram: FakeTelegram, echo: FakeIPEcho, kotak: KotakSimulator
) -> None:
    seed = pyotp.random_base32()
    kotak.expected_totp = lambda code: pyotp.TOTP(seed).verify(code, valid_window=1)
    echo.ip = kotak.egress_ip
    settings = kotak_settings(tmp_path / "good", telegram, echo, kotak, seed)

    code, lines = await doctor(settings)

    assert code == 0, "\n".join(lines)
    assert line_of(lines, "broker login").startswith("✔ broker login: kotak session created")
    funds = line_of(lines, "read-only call")
    assert "available ₹1,06,500.00" in funds and "₹12,500.50" in funds  # the simulator's limits
    assert kotak.calls_of("validate") and kotak.calls_of("limits")
    assert not kotak.calls_of("place")

    settings = kotak_settings(tmp_path / "bad", telegram, echo, kotak, seed, broker_mpin="975310")
    code, bad_lines = await doctor(settings)

    assert code == 1
    login = line_of(bad_lines, "broker login")
    assert login.startswith("✘ broker login: no kotak session") and "Invalid MPIN" in login
    assert line_of(bad_lines, "read-only call").startswith("✘ ")
    assert "there is no broker session" in line_of(bad_lines, "order permission")
    output = "\n".join(lines + bad_lines)
    for secret in (kotak.mpin, "975310", seed, kotak.access_token):
        assert secret not in output


def test_python_m_bot_doctor_with_a_missing_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("TELEGRAM_")}
    env.update(TELEGRAM_ALLOWED_USERS="111", PYTHONPATH=str(ROOT), NO_COLOR="1")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "doctor"],
        cwd=tmp_path,  # no .env here
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    named = [line for line in output.splitlines() if "TELEGRAM_BOT_TOKEN" in line]
    assert named == ["✘ settings: TELEGRAM_BOT_TOKEN is not set; it is required."]


async def test_allowed_users_who_never_pressed_start_are_named(
    tmp_path: Path, telegram: FakeTelegram, echo: FakeIPEcho
) -> None:
    telegram.never_started(222)
    settings = settings_for(tmp_path, telegram, echo, telegram_allowed_users="111,222:viewer")
    code, lines = await doctor(settings, broker=paper(settings))

    assert code == 0, "\n".join(lines)  # the bot works; 222 only misses its messages
    assert line_of(lines, "Telegram users") == (
        "! Telegram users: 222 (viewer) never opened the bot: each must open it in Telegram and "
        "press Start once, or the bot cannot message them"
    )


async def test_every_account_of_the_accounts_file_is_checked_under_its_name(
    tmp_path: Path, telegram: FakeTelegram, echo: FakeIPEcho
) -> None:
    """Two paper accounts, one whitelisted and one not: each gets its own checks, named; the
    one whose IP is not whitelisted fails alone."""
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(
        f'[accounts.me]\nbroker = "paper"\nstatic_ip_primary = "{echo.ip}"\n'
        '[accounts.me.users]\n111 = "admin"\n'
        '[accounts.mom]\nbroker = "paper"\nstatic_ip_primary = "198.51.100.9"\n'
        '[accounts.mom.users]\n111 = "admin"\n333 = "trader"\n'
    )
    accounts.chmod(0o600)
    settings = settings_for(tmp_path, telegram, echo, accounts_file=accounts)
    code, lines = await doctor(settings)

    assert code == 1, "\n".join(lines)
    assert "2 accounts in ACCOUNTS_FILE: me (paper), mom (paper)" in line_of(lines, "settings")
    assert [c["chat_id"] for c in telegram.calls_of("getChat")] == [111, 333]
    assert line_of(lines, "me: order permission").startswith("✔ ")
    assert line_of(lines, "mom: order permission").startswith("✘ ")
    assert "198.51.100.9" in line_of(lines, "mom: order permission")


async def test_a_year_the_holiday_calendar_does_not_cover_is_warned_about(
    tmp_path: Path, telegram: FakeTelegram, echo: FakeIPEcho
) -> None:
    """In December the next year's holidays are needed (an AMO's next open may be in it)."""
    settings = settings_for(tmp_path, telegram, echo)
    december = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
    _, lines = await doctor(settings, broker=paper(settings), now=lambda: december)

    line = line_of(lines, "market hours")
    assert line.startswith("! "), line
    assert "does not cover 2027" in line and "holidays/2027.toml" in line
