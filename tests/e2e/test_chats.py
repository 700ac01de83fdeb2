"""Safe in groups: the bot serves private chats, and groups only when TELEGRAM_ALLOWED_CHATS
names them; a stranger gets one refusal, then silence, and one audit line however often they
write."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from tests.e2e.harness import ADMIN, STRANGER, BotHarness

GROUP, ALLOWED_GROUP = -100111, -100222


def audit_rows(database: Path, user: int) -> int:
    with sqlite3.connect(database) as db:
        return int(
            db.execute("SELECT COUNT(*) FROM audit WHERE user_id = ?", (user,)).fetchone()[0]
        )


async def settle(h: BotHarness, update_ids: list[int]) -> None:
    """Wait until the bot has fetched `update_ids` and answered a later private message, then a
    little longer for any reply it might still send."""
    await h.telegram.wait_for(
        lambda t: all(i in t.handed_out for i in update_ids), what="the updates to be fetched"
    )
    await h.say(ADMIN, "/start")
    await asyncio.sleep(0.3)


async def test_a_group_that_is_not_allowed_gets_nothing(tmp_path: Path) -> None:
    async with BotHarness(tmp_path) as h:
        assert h.settings is not None
        private_before = len(h.telegram.messages(ADMIN))
        sent = [
            h.telegram.send_text(ADMIN, "/orders", chat_id=GROUP, chat_type="group"),
            h.telegram.send_text(ADMIN, "hello bot", chat_id=GROUP, chat_type="supergroup"),
        ]
        await settle(h, sent)
        assert h.telegram.messages(GROUP) == []
        assert len(h.telegram.messages(ADMIN)) == private_before + 1  # the /start reply only
        assert audit_rows(h.settings.database_path, ADMIN) == 1  # the private /start only


async def test_an_allowed_group_is_served_commands_only(tmp_path: Path) -> None:
    async with BotHarness(tmp_path, telegram_allowed_chats=f"{ALLOWED_GROUP}") as h:
        h.telegram.send_text(ADMIN, "/start", chat_id=ALLOWED_GROUP, chat_type="group")
        reply = await h.telegram.next_message(ALLOWED_GROUP, after=0, timeout=10)
        assert "Hello!" in reply.plain
        chatter = h.telegram.send_text(
            ADMIN, "good morning", chat_id=ALLOWED_GROUP, chat_type="group"
        )
        await settle(h, [chatter])
        assert len(h.telegram.messages(ALLOWED_GROUP)) == 1


async def test_a_stranger_writing_50_times_gets_one_reply_and_one_audit_line(
    tmp_path: Path,
) -> None:
    async with BotHarness(tmp_path) as h:
        assert h.settings is not None
        sent = [h.telegram.send_text(STRANGER, f"/orders {n}") for n in range(50)]
        await settle(h, sent)
        [reply] = h.telegram.messages(STRANGER)
        assert reply.plain == (
            "Sorry, this is a private bot. Your Telegram id is 999: if you should have access, "
            "send it to the bot's owner."
        )
        assert audit_rows(h.settings.database_path, STRANGER) == 1
        card = await h.say(ADMIN, "/buy NSE:SBIN 1 @700")
        answer = await h.tap(STRANGER, card, h.button(card, "Confirm"))  # still answered
        assert answer["text"] == "Sorry, this is a private bot."
        assert audit_rows(h.settings.database_path, STRANGER) == 1
        assert len(h.telegram.messages(STRANGER)) == 1
