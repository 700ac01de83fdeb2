"""Start-up bench with several accounts (issue 14): the real bot (`python -m bot`) with an
ACCOUNTS_FILE of ten accounts, 8 paper and 2 Kotak, against the Kotak simulator (serving
bench/scrip_master.py's live-sized nse_fo file), a fake IP echo and the fake Telegram server, all
on loopback; beside it, the same bot with one Kotak account, as the baseline.

Printed: the time from spawning the process to its first getUpdates (and the milestones of
bench/startup.py under it), the bot's RSS once it polls, and how many master files the
simulator served (`csv` downloads) and file-path lists it answered: the two Kotak accounts
share one master folder and one instrument index, so ten accounts download the master no more
often than one. Numbers, not asserted timings.
Run: `.venv/bin/python bench/accounts.py [--rows N] [--paper N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

import pyotp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.startup import IP, bot_env, line, nse_fo, start_once
from tests.fakes.ip_echo import FakeIPEcho
from tests.fakes.kotak_sim import KotakSimulator
from tests.fakes.telegram_server import DEFAULT_TOKEN, FakeTelegram

USER = 4242  # bench/startup.py's TELEGRAM_ALLOWED_USERS
SEEDS = [pyotp.random_base32() for _ in range(2)]


def accounts_file(path: Path, sim: KotakSimulator, paper: int) -> Path:
    """Two Kotak accounts (one simulator, one TOTP seed each) and `paper` paper accounts."""
    tables = [
        f'[accounts.kotak{n}]\nbroker = "kotak"\napi_key = "{sim.ucc}"\n'
        f'api_secret = "{sim.access_token}"\nmobile = "9876543210"\nmpin = "{sim.mpin}"\n'
        f'totp_secret = "{seed}"\nstatic_ip_primary = "{IP}"\n'
        f'[accounts.kotak{n}.users]\n{USER} = "admin"\n'
        for n, seed in enumerate(SEEDS, 1)
    ]
    tables += [
        f'[accounts.paper{n}]\nbroker = "paper"\n[accounts.paper{n}.users]\n{USER} = "admin"\n'
        for n in range(1, paper + 1)
    ]
    path.write_text("\n".join(tables))
    path.chmod(0o600)
    return path


def served(sim: KotakSimulator, since: int) -> str:
    calls = sim.calls[since:]
    csv = sum(c.kind == "csv" for c in calls)
    paths = sum(c.kind == "file-paths" for c in calls)
    logins = sum(c.kind == "validate" for c in calls)
    return f"{csv} master files, {paths} file-path lists, {logins} sessions"


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=150_000)
    parser.add_argument("--paper", type=int, default=8)
    # Long enough for the compact copy (written 5 s after start), or the same-day run re-parses.
    parser.add_argument("--settle", type=float, default=7.0, help="seconds before the 2nd RSS")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        content = nse_fo(Path(tmp), args.rows)
        totps = [pyotp.TOTP(seed) for seed in SEEDS]
        async with (
            KotakSimulator(
                expected_totp=lambda code: any(t.verify(code, valid_window=1) for t in totps)
            ) as sim,
            FakeIPEcho(IP) as echo,
            FakeTelegram(DEFAULT_TOKEN) as telegram,
        ):
            sim.egress_ip = IP
            sim.serve_master_file("nse_fo.csv", content)
            del content

            data = Path(tmp) / "one"
            env = bot_env(sim, echo, telegram, data)
            env["BROKER_TOTP_SECRET"] = SEEDS[0]
            since = len(sim.calls)
            print("one Kotak account (cold):")
            print(line("cold", await start_once(env, telegram, args.settle)))
            print(f"  simulator served {served(sim, since)}")

            data = Path(tmp) / "ten"
            data.mkdir()
            env = bot_env(sim, echo, telegram, data)
            for key in [k for k in env if k.startswith("BROKER")]:
                del env[key]
            env["ACCOUNTS_FILE"] = str(accounts_file(data / "accounts.toml", sim, args.paper))
            print(f"{args.paper + 2} accounts ({args.paper} paper + 2 Kotak):")
            for label in ("cold", "same day"):
                since = len(sim.calls)
                print(line(label, await start_once(env, telegram, args.settle)))
                print(f"  simulator served {served(sim, since)}")


if __name__ == "__main__":
    asyncio.run(main())
