"""Start-up bench: the real bot (`python -m bot`, BROKER=kotak) from process start to polling
Telegram, with a live-sized nse_fo master, and the bot's memory once it polls.

The bot runs as its own process against the Kotak simulator (serving bench/scrip_master.py's
150,000-row nse_fo file next to its own nse_cm file), a fake IP echo and the fake Telegram
server, all on loopback, so its memory (VmRSS from /proc/<pid>/status) is the bot's alone.
Each run starts twice on one data folder: `cold` downloads and parses the day's master, `same
day` is a restart that finds the day's files (and whatever compact cache the adapter keeps).
The time is from spawning the process to its first getUpdates; the milestones under it are
when the bot's own log lines arrived (login, master parsed, index ready).

Targets (issue 13): start-up to polling <= 1.5 s, bot memory with the master loaded < 150 MB.
Run: `.venv/bin/python bench/startup.py [--rows N] [--runs N] [--bot-dir DIR]` (`--bot-dir`
runs the bot from another checkout, e.g. the release before, against the same simulators).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyotp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scrip_master import generate
from tests.fakes.ip_echo import FakeIPEcho
from tests.fakes.kotak_sim import KotakSimulator
from tests.fakes.telegram_server import DEFAULT_TOKEN, FakeTelegram

ROOT = Path(__file__).resolve().parents[1]
IP = "203.0.113.10"
SEED = pyotp.random_base32()
# Log lines worth a milestone: (label, text the line contains).
MILESTONES = (
    ("session", "session created"),
    ("nse_fo parsed", "scrip master nse_fo"),
    ("index ready", "ready with"),
    ("running", "bot is running"),
)


@dataclass
class Start:
    polling_s: float
    cpu_s: float
    rss_mb: float
    rss_settled_mb: float
    peak_mb: float
    marks: dict[str, float] = field(default_factory=dict)


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used (/proc/<pid>/stat): a number the other load on
    a shared machine moves less than the wall-clock time."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def status_mb(pid: int, name: str) -> float:
    """`VmRSS`/`VmHWM` of a process from /proc, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def bot_env(
    sim: KotakSimulator, echo: FakeIPEcho, telegram: FakeTelegram, data: Path, bot_dir: Path = ROOT
) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(bot_dir),
        "NO_PROXY": "127.0.0.1,localhost",
        "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
        "TELEGRAM_BASE_URL": telegram.base_url,
        "TELEGRAM_ALLOWED_USERS": "4242",
        "DATABASE_PATH": str(data / "bot.db"),
        "LOG_LEVEL": "INFO",
        "BROKER": "kotak",
        "KOTAK_LOGIN_URL": sim.login_url,
        "BROKER_MOBILE": "9876543210",
        "BROKER_API_KEY": sim.ucc,
        "BROKER_API_SECRET": sim.access_token,
        "BROKER_MPIN": sim.mpin,
        "BROKER_TOTP_SECRET": SEED,
        "STATIC_IP_PRIMARY": IP,
        "IP_CHECK_URLS": echo.url,
    }


async def _stamp_lines(
    stream: asyncio.StreamReader, started: float, marks: dict[str, float]
) -> None:
    while line := await stream.readline():
        text = line.decode(errors="replace")
        for label, words in MILESTONES:
            if words in text and label not in marks:
                marks[label] = time.perf_counter() - started


async def start_once(env: dict[str, str], telegram: FakeTelegram, settle: float) -> Start:
    """Spawn the bot, wait for its first poll, read its memory, stop it with SIGTERM."""
    polls_before = len(telegram.calls_of("getUpdates"))
    marks: dict[str, float] = {}
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", env=env, cwd=env["PYTHONPATH"],
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    reader = asyncio.create_task(_stamp_lines(process.stderr, started, marks))
    try:
        await telegram.wait_for(
            lambda t: (
                len(t.calls_of("getUpdates")) > polls_before or process.returncode is not None
            ),
            timeout=120,
            what="the bot to poll",
        )
        polling = time.perf_counter() - started
        if process.returncode is not None:
            raise SystemExit(f"the bot exited with {process.returncode} before polling")
        cpu = cpu_seconds(process.pid)
        rss = status_mb(process.pid, "VmRSS")
        await asyncio.sleep(settle)  # background work after start-up (search postings, polls)
        settled = status_mb(process.pid, "VmRSS")
        peak = status_mb(process.pid, "VmHWM")
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=60)
        await reader
    return Start(polling, cpu, rss, settled, peak, marks)


async def import_floor(bot_dir: Path) -> float:
    """Seconds a bare `import bot.app.run` takes in a fresh interpreter: what no start-up
    ordering can win back."""
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import bot.app.run", cwd=str(bot_dir)
    )
    await process.wait()
    return time.perf_counter() - started


def line(label: str, run: Start) -> str:
    marks = "  ".join(f"{name} {at:.2f}" for name, at in run.marks.items())
    return (
        f"  {label:9s} polling after {run.polling_s:.2f} s ({run.cpu_s:.2f} s CPU)   "
        f"RSS {run.rss_mb:.0f} MB "
        f"(settled {run.rss_settled_mb:.0f}, peak {run.peak_mb:.0f})   [{marks}]"
    )


def nse_fo(folder: Path, rows: int) -> bytes:
    """A generated nse_fo master of `rows` rows (the live shape), said in one line."""
    master = folder / "nse_fo.csv"
    generate(master, rows)
    content = master.read_bytes()
    print(f"nse_fo master: {rows:,} rows, {len(content) / 1e6:.1f} MB")
    return content


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=150_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--settle", type=float, default=6.0, help="seconds before the 2nd RSS")
    parser.add_argument("--bot-dir", type=Path, default=ROOT, help="checkout to run the bot from")
    args = parser.parse_args()
    bot_dir = args.bot_dir.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        content = nse_fo(Path(tmp), args.rows)
        print(f"import bot.app.run alone: {await import_floor(bot_dir):.2f} s")
        totp = pyotp.TOTP(SEED)
        async with (
            KotakSimulator(expected_totp=lambda code: totp.verify(code, valid_window=1)) as sim,
            FakeIPEcho(IP) as echo,
            FakeTelegram(DEFAULT_TOKEN) as telegram,
        ):
            sim.egress_ip = IP
            sim.serve_master_file("nse_fo.csv", content)
            del content
            for run in range(args.runs):
                data = Path(tmp) / f"run{run}"
                env = bot_env(sim, echo, telegram, data, bot_dir)
                print(f"run {run + 1}:")
                print(line("cold", await start_once(env, telegram, args.settle)))
                print(line("same day", await start_once(env, telegram, args.settle)))
    print("targets: polling <= 1.5 s, RSS < 150 MB")


if __name__ == "__main__":
    asyncio.run(main())
