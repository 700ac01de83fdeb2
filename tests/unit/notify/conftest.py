"""The delivery rig: the fake Telegram server on loopback, a real PTB `Bot` behind the real
`TelegramOutbox`, a real SQLite file, and a sender whose clock is virtual: its sleeps advance
the clock at once (and may fire hooks, such as Telegram coming back after a minute), so a test
of a minute-long outage takes no minute."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from telegram import Bot

from bot.notify import Notifier, Sender
from bot.store import Store
from handlers.outbox import TelegramOutbox
from handlers.render import render_event
from tests.fakes.telegram_server import DEFAULT_TOKEN, FakeTelegram


@dataclass
class VirtualTime:
    """`clock` and `sleep` for the sender. `paused` holds every sleeper until `resume()`, so a
    test can write rows while the sender waits; `at` runs a hook once the clock reaches a
    time."""

    now: float = 0.0
    sleeps: list[float] = field(default_factory=list)
    hooks: list[tuple[float, Callable[[], Awaitable[None]]]] = field(default_factory=list)
    paused: bool = False
    _resume: asyncio.Event = field(default_factory=asyncio.Event)

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.paused:
            await self._resume.wait()
        self.now += seconds
        due = [h for h in self.hooks if h[0] <= self.now]
        for hook in due:
            self.hooks.remove(hook)
            await hook[1]()
        await asyncio.sleep(0)

    def at(self, when: float, hook: Callable[[], Awaitable[None]]) -> None:
        self.hooks.append((when, hook))

    def resume(self) -> None:
        self.paused = False
        self._resume.set()


@dataclass
class Rig:
    telegram: FakeTelegram
    bot: Bot
    path: Path
    time: VirtualTime
    store: Store
    sender: Sender
    notifier: Notifier

    async def restart(self) -> None:
        """Stop the sender and close the database, then open both anew on the same file."""
        await self.sender.stop()
        await self.store.close()
        self.store = await Store.open(self.path)
        self.sender = _sender(self.store, self.bot, self.time)
        self.notifier = Notifier(TelegramOutbox(self.bot), render_event, sender=self.sender)

    async def delivered(self) -> None:
        """Wait (a generous deadline, not a measurement) until no row waits."""
        await asyncio.wait_for(self.sender.idle(), 20)


def _sender(store: Store, bot: Bot, time: VirtualTime) -> Sender:
    return Sender(store.outbox, TelegramOutbox(bot), clock=time, sleep=time.sleep)


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    async with FakeTelegram() as telegram:
        bot = Bot(DEFAULT_TOKEN, base_url=telegram.base_url)
        await bot.initialize()
        path = tmp_path / "bot.db"
        store = await Store.open(path)
        time = VirtualTime()
        sender = _sender(store, bot, time)
        notifier = Notifier(TelegramOutbox(bot), render_event, sender=sender)
        rig = Rig(telegram, bot, path, time, store, sender, notifier)
        try:
            yield rig
        finally:
            await rig.sender.stop()
            await rig.store.close()
            await bot.shutdown()
