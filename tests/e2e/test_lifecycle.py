"""The process's life as a restart policy sees it: `python -m bot` exits at once, non-zero and
with one line, when it cannot start (Telegram unreachable, token refused, another bot on the
same database), and stops cleanly, exit 0 and no traceback, on Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

from tests.e2e.harness import BotHarness
from tests.fakes.telegram_server import DEFAULT_TOKEN, FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 30


def env_for(tmp: Path, base_url: str, token: str = DEFAULT_TOKEN) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "NO_PROXY": "127.0.0.1,localhost",
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_BASE_URL": base_url,
        "TELEGRAM_ALLOWED_USERS": "4242",
        "IP_CHECK_URLS": "",
        "DATABASE_PATH": str(tmp / "bot.db"),
        "PAPER_STATE_PATH": str(tmp / "paper.json"),
    }


async def start(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def finish(process: asyncio.subprocess.Process) -> tuple[int, str]:
    try:
        _, err = await asyncio.wait_for(process.communicate(), timeout=DEADLINE)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"the bot did not exit within {DEADLINE} s") from None
    assert process.returncode is not None
    return process.returncode, err.decode()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_an_unreachable_telegram_ends_the_process_with_one_line(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/bot"
    code, err = await finish(await start(env_for(tmp_path, url), tmp_path))

    assert code == 1
    assert err.splitlines() == [err.strip()], err
    assert err == (
        "Cannot start: Telegram could not be reached at 127.0.0.1 "
        "(All connection attempts failed).\n"
    )


async def test_a_refused_token_ends_the_process_with_one_line(tmp_path: Path) -> None:
    async with FakeTelegram(DEFAULT_TOKEN) as telegram:  # it answers 401 to any other token
        wrong = "654321:WRONG-token-s3cr3t"
        code, err = await finish(await start(env_for(tmp_path, telegram.base_url, wrong), tmp_path))

    assert code == 1
    assert err == "Cannot start: Telegram refused TELEGRAM_BOT_TOKEN; check the token.\n"
    assert "s3cr3t" not in err


async def test_ctrl_c_stops_the_bot_cleanly(tmp_path: Path) -> None:
    async with FakeTelegram(DEFAULT_TOKEN) as telegram:
        process = await start(env_for(tmp_path, telegram.base_url), tmp_path)
        try:
            await telegram.wait_for(lambda t: t.calls_of("getUpdates"), timeout=DEADLINE)
        finally:
            process.send_signal(signal.SIGINT)
            code, err = await finish(process)

    assert code == 0, err[-2000:]
    assert "Traceback" not in err
    assert "bot stopped" in err


async def test_a_second_bot_on_the_same_database_refuses_with_one_line(tmp_path: Path) -> None:
    async with BotHarness(tmp_path) as bot:
        env = env_for(tmp_path, bot.telegram.base_url)
        code, err = await finish(await start(env, tmp_path))
        assert bot._task is not None and not bot._task.done()  # the first one runs on

    database = tmp_path / "bot.db"
    assert code == 1
    assert err.splitlines() == [
        f"Cannot start: another tradebot (pid {os.getpid()}) is already running on {database} "
        f"(lock {database}.lock); stop it first, or give this one its own DATABASE_PATH."
    ]


async def test_the_lock_of_a_killed_bot_does_not_block_the_next(tmp_path: Path) -> None:
    async with FakeTelegram(DEFAULT_TOKEN) as telegram:
        process = await start(env_for(tmp_path, telegram.base_url), tmp_path)
        await telegram.wait_for(lambda t: t.calls_of("getUpdates"), timeout=DEADLINE)
        process.kill()  # no clean-up runs: the lock file stays, with the dead pid in it
        await process.wait()
    assert (tmp_path / "bot.db.lock").read_text().strip() == str(process.pid)

    async with BotHarness(tmp_path) as bot:
        reply = await bot.say(111, "/start")
    assert "Hello" in reply.plain
