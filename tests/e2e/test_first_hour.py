"""A new user's first minutes: /start says what their role allows, a stranger learns the id to
send the owner, and an allowed user who never pressed Start costs one log line, not a traceback."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.e2e.harness import ADMIN, STRANGER, TRADER, VIEWER, BotHarness


@pytest.mark.parametrize(
    ("user", "line"),
    [
        (
            ADMIN,
            "You are an admin: you can trade, see every report, and see and manage the broker "
            "session (/session).",
        ),
        (
            TRADER,
            "You are a trader: you can place, modify and cancel orders and see every report.",
        ),
        (
            VIEWER,
            "You are a viewer: you can see orders, trades, positions, holdings, funds and "
            "quotes, but not place orders.",
        ),
    ],
)
async def test_start_says_the_users_role(tmp_path: Path, user: int, line: str) -> None:
    async with BotHarness(tmp_path) as h:
        reply = await h.say(user, "/start")
    assert reply.plain.splitlines() == [
        "Hello! I trade on your paper account. Every order asks you to confirm before it goes out.",
        line,
        "Send /help for the commands.",
    ]


async def test_a_stranger_is_told_their_numeric_id(tmp_path: Path) -> None:
    async with BotHarness(tmp_path) as h:
        reply = await h.say(STRANGER, "/start")
    assert f"Your Telegram id is {STRANGER}: " in reply.plain
    assert reply.plain.endswith("send it to the bot's owner.")


async def test_an_admin_who_never_pressed_start_costs_one_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    harness = BotHarness(tmp_path)
    harness.telegram.never_started(ADMIN)
    caplog.set_level(logging.INFO)
    async with harness as h:
        # The paper session's "created" notice goes to every admin at start-up.
        await h.telegram.wait_for(
            lambda _: any("could not deliver" in r.getMessage() for r in caplog.records),
            what="the failed push to the admin",
        )
        assert h.telegram.messages(ADMIN) == []
        reply = await h.say(ADMIN, "/start")  # writing to the bot opens the chat
        assert "Hello!" in reply.plain

    failed = [r for r in caplog.records if "could not deliver" in r.getMessage()]
    assert [(r.levelno, r.exc_info) for r in failed] == [(logging.WARNING, None)] * len(failed)
    assert failed[0].getMessage() == (
        f"could not deliver a notification to chat {ADMIN}: user {ADMIN} has not opened the bot "
        "yet (Telegram: chat not found); they must open it in Telegram and press Start once"
    )
    assert not [r for r in caplog.records if r.exc_info]
