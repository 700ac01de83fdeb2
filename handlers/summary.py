"""Delivering the daily summary: its words to each user who wants it, then the P&L chart.

The words and the chart (drawn once, on a worker thread) go through the notifier's persistent
outbox like every push: written before they are sent, paced, retried while Telegram is away. Each
user's "summary" choice applies (silent: no sound, off: nothing); the session and IP incidents
are for admins, who alone see /session.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from bot.notify.events import DailySummary
from bot.notify.notifier import Notifier
from bot.notify.preferences import Preferences
from bot.settings import Role
from handlers.render.chart import pnl_chart
from handlers.render.summary import summary_caption, summary_text


class SummaryPoster:
    def __init__(
        self,
        notifier: Notifier,
        preferences: Preferences,
        roles: Mapping[int, Role],
    ) -> None:
        self._notifier = notifier
        self._preferences = preferences
        self._roles = dict(roles)

    async def __call__(self, summary: DailySummary) -> None:
        png = await asyncio.to_thread(pnl_chart, summary)
        caption = summary_caption(summary)
        for user, role in self._roles.items():
            choice = await self._preferences.choice(user, "summary")
            if choice == "off":
                continue
            silent = choice == "silent"
            text = summary_text(summary, incidents=role is Role.ADMIN)
            await self._notifier.push(user, text, silent=silent)
            if png is not None:
                await self._notifier.push_photo(user, png, caption, silent=silent)
