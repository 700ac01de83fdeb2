"""The doctor and the running bot give one verdict on orders: the doctor's "order permission"
line is the account gate's, worded as the bot's /session words it."""

from __future__ import annotations

from pathlib import Path

from bot.app.doctor import run_doctor
from bot.settings import Settings
from tests.e2e.harness import ADMIN, BotHarness
from tests.e2e.test_kotak import kotak_settings, parts  # noqa: F401 - parts is a fixture
from tests.fakes.ip_echo import FakeIPEcho
from tests.fakes.kotak_sim import KotakSimulator
from tests.fakes.totp_clock import SkipAheadClock


async def doctor(settings: Settings | None) -> tuple[int, dict[str, str]]:
    assert settings is not None
    lines: list[str] = []
    code = await run_doctor(settings, out=lines.append, color=False)
    return code, {line[2:].split(": ", 1)[0]: line for line in lines}


def orders_line(session: str) -> str:
    return next(line for line in session.splitlines() if line.startswith("Orders: "))


async def test_kotak_with_an_unknown_egress_ip_blocks_in_both(
    tmp_path: Path,
    parts: tuple[KotakSimulator, FakeIPEcho],  # noqa: F811 - the fixture imported above
    totp_clock: SkipAheadClock,
) -> None:
    sim, echo = parts
    echo.down = True
    async with BotHarness(tmp_path, totp_clock=totp_clock, **kotak_settings(sim, echo)) as h:
        session = (await h.say(ADMIN, "/session")).plain
        code, lines = await doctor(h.settings)  # beside the bot, as on the server

    reason = orders_line(session).removeprefix("Orders: ⛔ blocked: ")
    assert reason.startswith("I could not find out this server's IP address (")
    assert code == 1
    assert lines["egress IP"] == f"✘ egress IP: {reason}"
    assert lines["order permission"] == f"✘ order permission: orders blocked: {reason}"


async def test_paper_with_an_unknown_egress_ip_is_open_in_both(tmp_path: Path) -> None:
    async with FakeIPEcho() as echo:
        echo.down = True
        async with BotHarness(tmp_path, ip_check_urls=echo.url) as h:
            session = (await h.say(ADMIN, "/session")).plain
            card = await h.say(ADMIN, "/buy NSE:SBIN 1 @800")
            await h.confirm(ADMIN, card)
            code, lines = await doctor(h.settings)

    assert orders_line(session) == "Orders: ✅ open"
    assert code == 0, "\n".join(lines.values())
    assert lines["egress IP"].startswith("✔ egress IP: unknown (")
    assert lines["order permission"] == (
        "✔ order permission: orders are open (the paper broker fills them itself)"
    )
