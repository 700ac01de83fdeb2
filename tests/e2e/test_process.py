"""`python -m bot` as a real process: starts on the paper broker with only a token and an
allowlist, answers in Telegram, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.fakes.telegram_server import DEFAULT_TOKEN, FakeTelegram

ROOT = str(Path(__file__).resolve().parents[2])


async def test_python_m_bot_runs_and_stops_on_sigterm(tmp_path: Path) -> None:
    async with FakeTelegram(DEFAULT_TOKEN) as telegram:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": ROOT,  # this checkout's code, not whichever is installed
            "NO_PROXY": "127.0.0.1,localhost",
            "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
            "TELEGRAM_BASE_URL": telegram.base_url,
            "TELEGRAM_ALLOWED_USERS": "4242",
            "IP_CHECK_URLS": "off",
            "DAILY_SUMMARY_AT": "off",
            "DATABASE_PATH": str(tmp_path / "data" / "bot.db"),
            "PAPER_STATE_PATH": str(tmp_path / "data" / "paper.json"),
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await telegram.wait_for(lambda t: t.calls_of("getUpdates"), timeout=30)
            telegram.send_text(4242, "/start")
            reply = await telegram.wait_for(
                lambda t: next((m for m in t.messages(4242) if "Hello" in m.plain), None),
                timeout=10,
            )
            assert "paper" in reply.plain
            assert any("Bot started" in m.plain for m in telegram.messages(4242))
        finally:
            process.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(process.communicate(), timeout=30)
        assert process.returncode == 0, err.decode()[-2000:]
        # SIGTERM is a clean stop: the admin is told, so silence would mean a crash.
        assert telegram.messages(4242)[-1].plain.startswith("🔴 Bot stopping")
        assert b"Traceback" not in err
        assert (tmp_path / "data" / "bot.db").exists()
