"""Tap to wire: how long the running bot takes from a Confirm tap to the broker, and back.

The real application (`python -m bot`, BROKER=kotak) runs in its own process against the fake
Telegram Bot API server (in this process) and the Kotak simulator with an IP echo (in a third,
bench/broker_host.py, as a broker is another host: the fake Telegram server's work when an
order leaves, the tap's answer and the next long poll, must not delay the order's arrival
stamp), all on loopback, so the bot's event loop carries nothing but the bot. For each of N
confirmed orders (a limit buy, one card, one Confirm tap) it prints two spans, timed with the
system's monotonic clock (`time.perf_counter()`, the same in every process):

- tap → wire: from the moment the fake Telegram server hands the tap's update out (in the
  getUpdates reply) to the place request's arrival at the simulator;
- reply → card: from the simulator's place reply to the card edit's arrival at the fake
  Telegram server.

Taps are spaced (`--spacing`, default 150 ms) so the order-rate limiter (10 per second) never has
to hold one back: that wait is the law, measured by bench/rate_limiter.py, not latency. Each
order is filled by the simulator after its card is edited, as an exchange would, so the tracker
and the fill pushes run alongside as they do in production.

    python bench/tap_to_wire.py [--orders 200] [--spacing 0.15] [--profile out.prof]
                                [--bot-dir DIR] [--log-level WARNING]

`--profile` runs the bot under cProfile and writes its stats to the named file; `--bot-dir`
runs the bot from another checkout (e.g. `git archive <commit>` unpacked), to compare versions
against the same fakes; `--log-level` is the bot's LOG_LEVEL (WARNING by default, as the figures
in the README; INFO, the bot's own default, adds the order path's log lines to the measure).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyotp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fakes.telegram_server import DEFAULT_TOKEN, FakeTelegram, StoredMessage

ROOT = Path(__file__).resolve().parent.parent
TRADER = 4242
IP = "203.0.113.10"
SEED = pyotp.random_base32()


class BrokerHost:
    """bench/broker_host.py running: the simulator and IP echo in their own process."""

    def __init__(self, process: asyncio.subprocess.Process, config: dict[str, str]) -> None:
        self.process = process
        self.config = config

    @classmethod
    async def start(cls) -> BrokerHost:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "bench" / "broker_host.py"),
            SEED,
            IP,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return cls(process, json.loads(await cls._line(process)))

    async def fill_last(self) -> tuple[float, float]:
        """The last place request's arrival and reply times; that order is then filled."""
        assert self.process.stdin is not None
        self.process.stdin.write(b"fill\n")
        arrived, replied = json.loads(await self._line(self.process))
        return float(arrived), float(replied)

    async def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        await asyncio.wait_for(self.process.wait(), timeout=30)

    @staticmethod
    async def _line(process: asyncio.subprocess.Process) -> bytes:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=60)
        if not line:
            raise RuntimeError("bench/broker_host.py stopped")
        return line


def bot_env(
    broker: dict[str, str], telegram: FakeTelegram, data: Path, log_level: str
) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "NO_PROXY": "127.0.0.1,localhost",
        "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
        "TELEGRAM_BASE_URL": telegram.base_url,
        "TELEGRAM_ALLOWED_USERS": f"{TRADER}",
        "BROKER": "kotak",
        "KOTAK_LOGIN_URL": broker["login_url"],
        "BROKER_MOBILE": "9876543210",
        "BROKER_API_KEY": broker["ucc"],
        "BROKER_API_SECRET": broker["access_token"],
        "BROKER_MPIN": broker["mpin"],
        "BROKER_TOTP_SECRET": SEED,
        "STATIC_IP_PRIMARY": IP,
        "IP_CHECK_URLS": broker["echo_url"],
        "DATABASE_PATH": str(data / "bot.db"),
        "LOG_LEVEL": log_level,
        # Measured at any hour: outside market hours the card would offer an after-market
        # order instead (bot.market.hours), whose path is not the one measured here.
        "MARKET_HOURS": "false",
    }


def edit_arrival(telegram: FakeTelegram, card: StoredMessage, after: float) -> float:
    """When the first edit of `card` that reports the outcome arrived (after `after`)."""
    for (name, params), at in zip(telegram.calls, telegram.arrivals, strict=True):
        if (
            name == "editMessageText"
            and params.get("message_id") == card.message_id
            and at >= after
            and "Placed" in str(params.get("text", ""))
        ):
            return at
    raise AssertionError(f"no outcome edit of card {card.message_id}")


async def new_card(telegram: FakeTelegram) -> StoredMessage:
    """Ask for a limit buy and return its card (fill pushes may arrive in between)."""
    before = len(telegram.messages(TRADER))
    telegram.send_text(TRADER, "/buy NSE:SBIN 1 @800")
    card: StoredMessage = await telegram.wait_for(
        lambda t: next((m for m in t.messages(TRADER)[before:] if m.reply_markup), None),
        timeout=10,
        what="a confirmation card",
    )
    return card


def confirm_data(card: StoredMessage) -> str:
    assert card.reply_markup, f"no keyboard on {card.text!r}"
    for row in card.reply_markup["inline_keyboard"]:
        for button in row:
            if "Confirm" in button["text"]:
                return str(button["callback_data"])
    raise AssertionError(f"no Confirm button on {card.text!r}")


def summary(name: str, spans_ms: list[float]) -> str:
    ordered = sorted(spans_ms)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"{name}: p50 {statistics.median(ordered):6.2f} ms   p99 {p99:6.2f} ms   "
        f"max {ordered[-1]:6.2f} ms"
    )


async def run_bench(
    orders: int, spacing: float, profile: Path | None, bot_dir: Path, log_level: str
) -> None:
    broker = await BrokerHost.start()
    try:
        await run_bot(broker, orders, spacing, profile, bot_dir, log_level)
    finally:
        await broker.stop()


async def run_bot(
    broker: BrokerHost,
    orders: int,
    spacing: float,
    profile: Path | None,
    bot_dir: Path,
    log_level: str,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        async with FakeTelegram(DEFAULT_TOKEN) as telegram:
            command = [sys.executable]
            if profile is not None:
                command += ["-m", "cProfile", "-o", str(profile)]
            command += ["-m", "bot"]
            process = await asyncio.create_subprocess_exec(
                *command,
                cwd=bot_dir,
                env=bot_env(broker.config, telegram, data, log_level),
                stderr=asyncio.subprocess.PIPE,
            )
            try:
                await telegram.wait_for(lambda t: t.calls_of("getUpdates"), timeout=60)
                wire, back = await confirm_orders(broker, telegram, orders, spacing)
            finally:
                process.send_signal(signal.SIGINT if profile else signal.SIGTERM)
                _, err = await asyncio.wait_for(process.communicate(), timeout=30)
            if process.returncode not in (0, -signal.SIGINT):
                print(err.decode()[-3000:], file=sys.stderr)
    print(f"confirmed orders: {orders} (taps {spacing * 1000:.0f} ms apart)")
    print(summary("tap → wire  (tap handed out → place arrives)", wire))
    print(summary("reply → card (place reply → card edit arrives)", back))
    print("target: p50 < 5 ms, p99 < 10 ms")


async def confirm_orders(
    broker: BrokerHost, telegram: FakeTelegram, orders: int, spacing: float
) -> tuple[list[float], list[float]]:
    wire: list[float] = []
    back: list[float] = []
    last_tap = 0.0
    for _ in range(orders):
        card = await new_card(telegram)
        pause = last_tap + spacing - time.perf_counter()
        if pause > 0:
            await asyncio.sleep(pause)
        last_tap = time.perf_counter()
        update_id = telegram.tap(TRADER, card.message_id, confirm_data(card))
        await telegram.wait_for_edit(TRADER, card.message_id, lambda t: "Placed" in t, 10)
        arrived, replied = await broker.fill_last()
        wire.append((arrived - telegram.handed_out[update_id]) * 1000)
        back.append((edit_arrival(telegram, card, replied) - replied) * 1000)
    return wire, back


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--spacing", type=float, default=0.15, help="seconds between taps")
    parser.add_argument("--profile", type=Path, default=None, help="cProfile output file")
    parser.add_argument("--bot-dir", type=Path, default=ROOT, help="checkout to run the bot from")
    parser.add_argument("--log-level", default="WARNING", help="the bot's LOG_LEVEL")
    args = parser.parse_args()
    profile = args.profile.resolve() if args.profile else None
    bot_dir = args.bot_dir.resolve()
    asyncio.run(run_bench(args.orders, args.spacing, profile, bot_dir, args.log_level))


if __name__ == "__main__":
    main()
