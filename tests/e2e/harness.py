"""End-to-end harness: the real bot (`bot.app.run`, as `python -m bot` runs it) against the fake
Telegram Bot API server, with a paper broker the test can steer (set prices)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Self

from bot.accounts import TotpClock
from bot.app import run
from bot.settings import Settings, load_settings
from brokers.base import Broker
from brokers.paper import PaperBroker
from tests.fakes.telegram_server import DEFAULT_TOKEN, FakeTelegram, StoredMessage

ADMIN, VIEWER, TRADER, STRANGER = 111, 222, 333, 999


class BotHarness:
    def __init__(
        self,
        tmp: Path,
        *,
        instance: Broker | None = None,
        totp_clock: TotpClock | None = None,
        clock: Callable[[], datetime] | None = None,
        **settings: Any,
    ) -> None:
        """`instance`: a broker object to run with (default: a paper broker the test can
        steer); `totp_clock`: the clock for TOTP steps (default: the wall clock); `settings`:
        overrides, e.g. broker="kotak" to let the bot build its own; `clock`: the time the paper
        market dates its quotes with and the bot's alert watches read (default: the wall clock;
        a test moves it to see a snooze end or to reach the daily summary's time)."""
        self.tmp = tmp
        self._clock = clock
        self._totp_clock = totp_clock
        self.telegram = FakeTelegram(DEFAULT_TOKEN)
        self._settings_overrides = settings
        self.broker = instance
        self.settings: Settings | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        await self.telegram.start()
        values: dict[str, Any] = {
            "telegram_bot_token": DEFAULT_TOKEN,
            "telegram_base_url": self.telegram.base_url,
            "telegram_allowed_users": f"{ADMIN},{VIEWER}:viewer,{TRADER}:trader",
            "data_dir": self.tmp,
            "database_path": self.tmp / "bot.db",
            "paper_state_path": self.tmp / "paper.json",
            "paper_tick_seconds": 0,
            "order_poll_seconds": 0.05,
            "ip_check_urls": "",
            # Off unless a test asks: with the wall clock it would fire in any run after 15:45.
            "daily_summary_at": "off",
            # Off unless a test asks (with its own clock): with the wall clock, every order
            # test would meet a closed market at night, at weekends and on holidays.
            "market_hours": False,
        }
        values.update(self._settings_overrides)
        self.settings = load_settings(_env_file=None, **values)
        if self.broker is None and self.settings.broker == "paper":
            self.broker = PaperBroker(
                self.settings.paper_state_path,
                capital=Decimal(1_000_000),
                tick_seconds=0,
                seed=7,
                clock=self._clock,
            )
        try:
            await self.start()
        except BaseException:
            await self.telegram.stop()
            raise
        return self

    async def start(self) -> None:
        assert self.settings is not None
        self._stop = asyncio.Event()
        calls_before = len(self.telegram.calls_of("getUpdates"))
        self._task = asyncio.create_task(
            run(
                self.settings,
                self._stop,
                broker=self.broker,
                totp_clock=self._totp_clock,
                **({"clock": self._clock} if self._clock is not None else {}),
            )
        )
        await self.telegram.wait_for(
            lambda t: len(t.calls_of("getUpdates")) > calls_before or self._task.done(),
            timeout=15,
            what="the bot to start polling",
        )
        if self._task.done():
            self._task.result()

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await asyncio.wait_for(self._task, timeout=15)

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self.stop()
        finally:
            await self.telegram.stop()

    # -- conversation helpers ---------------------------------------------------------------

    async def say(self, user: int, text: str) -> StoredMessage:
        """Send a message as `user` and return the bot's next message in that chat."""
        before = len(self.telegram.messages(user))
        self.telegram.send_text(user, text)
        return await self.telegram.next_message(user, after=before, timeout=10)

    async def tap(self, user: int, card: StoredMessage, data: str) -> dict[str, Any]:
        """Tap a button on `card` as `user`; return the answerCallbackQuery params."""
        answers_before = len(self.telegram.callback_answers)
        self.telegram.tap(user, card.message_id, data, chat_id=card.chat_id)
        await self.telegram.wait_for(
            lambda t: len(t.callback_answers) > answers_before, timeout=10, what="a tap answer"
        )
        return self.telegram.callback_answers[answers_before]

    async def confirm(
        self, user: int, card: StoredMessage, done: str = "Placed", within: float = 10
    ) -> StoredMessage:
        """Tap Confirm on `card` as `user` (on a cancel card: "Cancel order"); return the card
        once its text contains `done`."""
        answer = await self.tap(user, card, self.confirm_button(card))
        assert answer.get("text") == "Sending…", answer
        return await self.telegram.wait_for_edit(
            user, card.message_id, lambda t: done in t, timeout=within
        )

    @staticmethod
    def confirm_button(card: StoredMessage) -> str:
        """The callback data of the button that sends the card's request, whatever its label."""
        assert card.reply_markup, f"no keyboard on {card.text!r}"
        [data] = [
            b["callback_data"]
            for row in card.reply_markup["inline_keyboard"]
            for b in row
            if b["callback_data"].startswith("cf:")
        ]
        return data

    @staticmethod
    def button(card: StoredMessage, label_start: str) -> str:
        assert card.reply_markup, f"no keyboard on {card.text!r}"
        for row in card.reply_markup["inline_keyboard"]:
            for b in row:
                if b["text"].lstrip("✅✖🗑↩\ufe0f ").startswith(label_start):
                    return b["callback_data"]
        raise AssertionError(f"no button {label_start!r} on {card.text!r}")
