"""Secrets never reach logs, chat or exceptions: a whole Kotak conversation at DEBUG level,
then every log line, stderr and every message the bot sent are searched for every secret."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.e2e.harness import ADMIN, BotHarness
from tests.e2e.test_kotak import SEED, kotak_settings, move, parts  # noqa: F401 - fixture
from tests.fakes.telegram_server import DEFAULT_TOKEN

ELSEWHERE = "198.51.100.99"


async def test_no_secret_in_logs_or_chat(
    tmp_path: Path,
    parts,  # type: ignore[no-untyped-def]  # noqa: F811
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    sim, echo = parts
    caplog.set_level(logging.DEBUG)
    settings = kotak_settings(sim, echo, log_level="DEBUG", session_check_seconds=3600)
    async with BotHarness(tmp_path, **settings) as h:
        await h.say(ADMIN, "/session")
        card = await h.say(ADMIN, "/buy NSE:SBIN 1 @800")
        await h.confirm(ADMIN, card)
        await h.say(ADMIN, "/orders")
        move(sim, echo, ELSEWHERE)
        card = await h.say(ADMIN, "/buy NSE:SBIN 1 @800")
        await h.confirm(ADMIN, card, "Not done")
        await h.say(ADMIN, "/funds")

    session_tokens = [s for session in sim._sessions.values() for s in (session.token, session.sid)]
    secrets = [DEFAULT_TOKEN, SEED, sim.mpin, sim.access_token, *session_tokens]
    assert len(session_tokens) >= 2  # a real session existed, so there was something to leak
    chat = [m.text for m in h.telegram.messages(ADMIN)] + [
        t for m in h.telegram.messages(ADMIN) for t in m.edit_texts
    ]
    out, err = capfd.readouterr()
    haystacks = {"log records": caplog.text, "stdout": out, "stderr": err, "chat": "\n".join(chat)}
    assert "DEBUG" in caplog.text  # the run really logged at DEBUG
    for where, text in haystacks.items():
        for secret in secrets:
            assert secret not in text, f"a secret leaked into {where}"
