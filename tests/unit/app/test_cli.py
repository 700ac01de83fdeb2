"""`tradebot` / `python -m bot` as a real process: --help, --version and a mistyped word answer
and exit without starting a bot (no Telegram call, no database file)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.app.cli import SUBCOMMANDS, version

ROOT = Path(__file__).resolve().parents[3]


def closed_port() -> int:
    """A loopback port nothing listens on: a bot that tried to start would fail to reach it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("TELEGRAM_")}
    env.update(
        PYTHONPATH=str(ROOT),
        NO_COLOR="1",
        TELEGRAM_BOT_TOKEN="123456:TEST-TOKEN",
        TELEGRAM_ALLOWED_USERS="111",
        TELEGRAM_BASE_URL=f"http://127.0.0.1:{closed_port()}/bot",
        IP_CHECK_URLS="off",
        DATA_DIR=str(tmp / "data"),
        DATABASE_PATH=str(tmp / "data" / "bot.db"),
        PAPER_STATE_PATH=str(tmp / "data" / "paper.json"),
    )
    return subprocess.run(  # noqa: S603 - this interpreter, the test's own words
        [sys.executable, "-m", "bot", *args],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,  # a bot started by mistake never ends: this is the bound, not a measure
        check=False,
    )


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_lists_the_subcommands_and_starts_nothing(tmp_path: Path, flag: str) -> None:
    result = cli(tmp_path, flag)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: tradebot ")
    for name in SUBCOMMANDS:
        assert name in result.stdout
    assert result.stderr == ""
    assert not (tmp_path / "data").exists()


def test_version_comes_from_the_package(tmp_path: Path) -> None:
    result = cli(tmp_path, "--version")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"tradebot {version()}"
    assert version() == "0.1.0"  # pyproject's
    assert not (tmp_path / "data").exists()


def test_a_mistyped_word_is_refused_with_the_usage_and_a_suggestion(tmp_path: Path) -> None:
    result = cli(tmp_path, "doctorr")

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "usage: tradebot [-h] [--version] COMMAND ...",
        "tradebot: error: unknown command 'doctorr'; did you mean doctor?",
    ]
    assert not (tmp_path / "data").exists()


def test_a_word_far_from_any_gets_the_usage_only(tmp_path: Path) -> None:
    result = cli(tmp_path, "--verbose")
    assert result.returncode == 2 and "unrecognized arguments: --verbose" in result.stderr

    result = cli(tmp_path, "xyzzy")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == "tradebot: error: unknown command 'xyzzy'"
    assert not (tmp_path / "data").exists()


def test_subcommand_help(tmp_path: Path) -> None:
    result = cli(tmp_path, "doctor", "--help")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: tradebot doctor [-h]")
    assert not (tmp_path / "data").exists()


def test_health_without_a_running_bot_is_unhealthy_and_starts_nothing(tmp_path: Path) -> None:
    result = cli(tmp_path, "health")

    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("unhealthy: no heartbeat in ")
    assert not (tmp_path / "data").exists()
