"""A new user's first run (issue 11): `cp .env.example .env`, fill in the token and the user id,
`python -m bot`, and it answers; a Telegram it cannot reach stops it with one line and an exit,
not a process that hangs on after the message."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sys
from pathlib import Path

from tests.fakes.telegram_server import DEFAULT_TOKEN, FakeTelegram

ROOT = Path(__file__).resolve().parents[2]


def base_env() -> dict[str, str]:
    """A bare environment: this checkout's code, loopback without proxies, egress-IP echo
    services off (they would go to the internet; the paper broker does not need them)."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "NO_PROXY": "127.0.0.1,localhost",
        "IP_CHECK_URLS": "off",
    }


async def test_a_fresh_copy_of_env_example_starts_the_bot(tmp_path: Path) -> None:
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    async with FakeTelegram(DEFAULT_TOKEN) as telegram:
        env = {
            **base_env(),
            "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
            "TELEGRAM_BASE_URL": telegram.base_url,
            "TELEGRAM_ALLOWED_USERS": "4242",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await telegram.wait_for(
                lambda t: t.calls_of("getUpdates") or process.returncode is not None,
                timeout=30,
                what="the bot to poll",
            )
            telegram.send_text(4242, "/start")
            await telegram.wait_for(
                lambda t: any("Hello" in m.plain for m in t.messages(4242)), timeout=10
            )
            heartbeat = tmp_path / "data" / "heartbeat"
            await telegram.wait_for(lambda t: heartbeat.exists(), timeout=10, what="a heartbeat")
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(process.communicate(), timeout=30)
        assert process.returncode == 0, err.decode()[-2000:]
        assert b"Traceback" not in err
        assert (tmp_path / "data" / "tradebot.db").exists()  # inside DATA_DIR (./data)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_an_unreachable_telegram_is_one_line_and_an_exit(tmp_path: Path) -> None:
    env = {
        **base_env(),
        "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
        "TELEGRAM_ALLOWED_USERS": "4242",
        "TELEGRAM_BASE_URL": f"http://127.0.0.1:{closed_port()}/bot",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        _, err = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:  # it hung on after the message: the bug this pins
            process.kill()
            await process.wait()
    assert process.returncode == 1
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Cannot start: Telegram could not be reached")
