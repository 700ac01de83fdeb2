"""The heartbeat the Docker HEALTHCHECK reads: fresh while the bot polls, stale or missing
otherwise, one line each way."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from bot.app.health import STALE_AFTER_SECONDS, beat, check, heartbeat_path
from bot.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[3]


def settings(tmp: Path) -> Settings:
    return load_settings(
        _env_file=None, telegram_bot_token="1:abc", telegram_allowed_users="1", data_dir=tmp
    )


async def test_beat_touches_only_while_alive(tmp_path: Path) -> None:
    path = heartbeat_path(settings(tmp_path))
    alive = [False]
    task = asyncio.create_task(beat(path, lambda: alive[0], every=0.01))
    await asyncio.sleep(0.05)
    assert not path.exists()
    alive[0] = True
    for _ in range(200):
        if path.exists():
            break
        await asyncio.sleep(0.01)
    task.cancel()
    assert path.exists()


def test_check_missing_fresh_and_stale(tmp_path: Path) -> None:
    s = settings(tmp_path)
    lines: list[str] = []
    assert check(s, out=lines.append) == 1
    assert lines[-1].startswith("unhealthy: no heartbeat in ")
    heartbeat_path(s).touch()
    assert check(s, out=lines.append) == 0
    assert lines[-1].startswith("healthy: heartbeat ")
    old = time.time() - STALE_AFTER_SECONDS - 5
    os.utime(heartbeat_path(s), (old, old))
    assert check(s, out=lines.append) == 1
    assert lines[-1].startswith("unhealthy: the last heartbeat was ")


def test_python_m_bot_app_health_is_the_images_check(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "DATA_DIR": str(tmp_path),
           "TELEGRAM_BOT_TOKEN": "1:abc", "TELEGRAM_ALLOWED_USERS": "1"}  # fmt: skip
    results = []
    for _ in range(2):
        results.append(
            subprocess.run(
                [sys.executable, "-m", "bot.app.health"],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        )
        (tmp_path / "heartbeat").touch()
    first, second = results
    assert (first.returncode, second.returncode) == (1, 0)
    assert "Traceback" not in first.stderr + second.stderr
    assert 'CMD ["python", "-m", "bot.app.health"]' in (ROOT / "Dockerfile").read_text()
