"""How long the outbox takes to drain, at Telegram's real limits, and what a publish costs.

1,000 pushes to 10 chats are written to a real SQLite outbox and delivered by the real sender
through the real `TelegramOutbox` (python-telegram-bot) to the fake Bot API server on loopback,
at the production pacing (one message a second per chat, 25 a second overall: Telegram allows
about 1 and 30). Two runs:

- distinct pushes (no coalescing key): 100 messages per chat, so the drain is paced at one a
  second per chat, about 100 s;
- the same pushes with a coalescing key (a burst of fills): the waiting rows of a chat go out
  as a few messages listing them, so the drain takes seconds.

Each run counts at the fake server that every push arrived exactly once, in order per chat.
First, with Telegram down (every call answered 502), 1,000 publishes are timed one by one: the
publish path only writes a row and wakes the sender, so an outage costs it nothing.

    python bench/outbox.py [--pushes 1000] [--chats 10] [--skip-plain]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import os

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

from telegram import Bot

from bot.notify import Sender
from bot.store import Store
from handlers.outbox import TelegramOutbox
from tests.fakes.telegram_server import DEFAULT_TOKEN, FakeTelegram

PUSH = re.compile(r"push (\d+)-(\d+)\b")


def text(chat: int, n: int) -> str:
    return f"✅ <b>Filled</b>: push {chat}-{n}: BUY 1 NSE:SBIN at 812.35 (order 26120100{n:05d})"


async def publish_latency(folder: Path, pushes: int, chats: int) -> None:
    async with FakeTelegram() as telegram:
        bot = Bot(DEFAULT_TOKEN, base_url=telegram.base_url)
        await bot.initialize()
        await telegram.go_down("502")
        store = await Store.open(folder / "down.db")
        sender = Sender(store.outbox, TelegramOutbox(bot))
        await sender.start()
        times = []
        for n in range(pushes):
            start = time.perf_counter()
            await sender.enqueue(100 + n % chats, text(n % chats, n), coalesce_key="orders")
            times.append(time.perf_counter() - start)
        await asyncio.sleep(1)  # let the sender try and fail a few times
        await sender.stop()
        waiting = (await store.outbox.counts()).get("PENDING", 0)
        await store.close()
        await bot.shutdown()
    times.sort()
    ms = [t * 1000 for t in times]
    print(
        f"publish with Telegram down (502): {pushes} publishes, p50 {statistics.median(ms):.2f} ms,"
        f" p99 {ms[int(len(ms) * 0.99) - 1]:.2f} ms, max {ms[-1]:.2f} ms;"
        f" {telegram.calls_while_down} sends refused meanwhile, {waiting} rows still waiting"
    )


async def drain(folder: Path, name: str, pushes: int, chats: int, coalesce: bool) -> None:
    async with FakeTelegram() as telegram:
        bot = Bot(DEFAULT_TOKEN, base_url=telegram.base_url)
        await bot.initialize()
        store = await Store.open(folder / f"{name}.db")
        sender = Sender(store.outbox, TelegramOutbox(bot))
        for n in range(pushes):
            chat = n % chats
            key = "orders" if coalesce else None
            await sender.enqueue(100 + chat, text(chat, n), coalesce_key=key)
        start = time.perf_counter()
        await sender.start()
        await sender.idle()
        elapsed = time.perf_counter() - start
        counts = await store.outbox.counts()
        await sender.stop()
        await store.close()
        await bot.shutdown()
        messages = [m for c in range(chats) for m in telegram.messages(100 + c)]
        seen = [(int(a), int(b)) for m in messages for a, b in PUSH.findall(m.text)]
        arrivals = telegram.arrivals
    expected = sorted((n % chats, n) for n in range(pushes))
    assert sorted(seen) == expected, "a push was lost or doubled"
    for chat in range(chats):
        mine = [n for c, n in seen if c == chat]
        assert mine == sorted(mine), f"chat {chat} out of order"
    peak = max(
        sum(1 for t in arrivals if a <= t < a + 1) for a in arrivals
    )  # the busiest second, as the server saw it
    print(
        f"{name}: {pushes} pushes to {chats} chats drained in {elapsed:.1f} s as"
        f" {len(messages)} messages (none lost, none doubled, in order; rows {counts});"
        f" busiest second at the server: {peak} calls"
    )


async def main() -> None:
    # PTB logs every unparsable 502 page with a traceback; the outage run makes many on purpose.
    logging.getLogger("telegram").setLevel(logging.CRITICAL)
    logging.getLogger("bot.notify.sender").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pushes", type=int, default=1000)
    parser.add_argument("--chats", type=int, default=10)
    parser.add_argument("--skip-plain", action="store_true", help="skip the ~100 s paced run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        await publish_latency(folder, args.pushes, args.chats)
        await drain(folder, "coalesced", args.pushes, args.chats, coalesce=True)
        if not args.skip_plain:
            await drain(folder, "one message per push", args.pushes, args.chats, coalesce=False)


if __name__ == "__main__":
    asyncio.run(main())
