"""Self-test of the fake Telegram server, driven by the real python-telegram-bot."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, RetryAfter
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes

from tests.fakes.telegram_server import NOT_MODIFIED, FakeTelegram

TOKEN = "123456:TEST-TOKEN"
USER = 111


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as fake:
        yield fake


async def _raw(
    server: FakeTelegram, method: str, token: str = TOKEN, **data: str
) -> httpx.Response:
    url = f"http://127.0.0.1:{server.port}/bot{token}/{method}"
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.post(url, data=data)


async def test_ptb_application_round_trip(server: FakeTelegram) -> None:
    async def ping(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        button = InlineKeyboardButton("Tap", callback_data="p:1")
        assert update.effective_message is not None
        await update.effective_message.reply_text(
            "pong", reply_markup=InlineKeyboardMarkup([[button]])
        )

    async def tapped(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text("tapped")

    app = ApplicationBuilder().token(TOKEN).base_url(server.base_url).build()
    app.add_handler(CommandHandler("ping", ping))
    app.add_handler(CallbackQueryHandler(tapped, pattern=r"^p:1$"))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        assert app.bot.id == server.bot_id
        server.send_text(user_id=USER, text="/ping")
        pong = await server.next_message(USER)
        assert pong.text == "pong"
        assert pong.reply_markup == {"inline_keyboard": [[{"text": "Tap", "callback_data": "p:1"}]]}

        server.tap(user_id=USER, message_id=pong.message_id, data="p:1")
        edited = await server.wait_for_edit(USER, pong.message_id, lambda t: t == "tapped")
        assert edited.text == "tapped"
        assert edited.reply_markup is None
        await server.wait_for(lambda s: s.callback_answers, what="answerCallbackQuery")
        assert server.callback_answers[0]["callback_query_id"] == "1"
        assert len(server.messages(USER)) == 1
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    assert server.calls_of("getMe")
    assert server.calls_of("deleteWebhook")


async def test_get_updates_holds_open_when_empty(server: FakeTelegram) -> None:
    started = time.monotonic()
    response = await _raw(server, "getUpdates", timeout="1")
    assert time.monotonic() - started >= 0.9
    assert response.json() == {"ok": True, "result": []}


async def test_get_updates_wakes_on_injection_and_confirms_offset(server: FakeTelegram) -> None:
    first = server.send_text(user_id=USER, text="123")
    body = (await _raw(server, "getUpdates", timeout="5")).json()
    message = body["result"][0]["message"]
    assert message["text"] == "123"
    assert "entities" not in message
    body = (await _raw(server, "getUpdates", offset=str(first + 1), timeout="0")).json()
    assert body["result"] == []


async def test_text_that_looks_like_json_stays_a_string(server: FakeTelegram) -> None:
    response = await _raw(server, "sendMessage", chat_id="42", text="123")
    assert response.json()["result"]["text"] == "123"
    assert server.message(42, 1).text == "123"
    assert server.calls_of("sendMessage") == [{"chat_id": 42, "text": "123"}]


async def test_edit_not_modified_is_400(server: FakeTelegram) -> None:
    await _raw(server, "sendMessage", chat_id="42", text="hello")
    response = await _raw(server, "editMessageText", chat_id="42", message_id="1", text="hello")
    assert response.status_code == 400
    assert response.json() == {"ok": False, "error_code": 400, "description": NOT_MODIFIED}

    missing = await _raw(server, "editMessageText", chat_id="42", message_id="9", text="x")
    assert missing.json()["description"] == "Bad Request: message to edit not found"

    async with Bot(TOKEN, base_url=server.base_url) as bot:
        with pytest.raises(BadRequest, match="not modified"):
            await bot.edit_message_text("hello", chat_id=42, message_id=1)


async def test_wrong_token_is_401(server: FakeTelegram) -> None:
    response = await _raw(server, "getMe", token="999:WRONG")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert server.calls == []


async def test_unknown_method_is_404(server: FakeTelegram) -> None:
    response = await _raw(server, "launchRockets")
    assert response.status_code == 404
    assert response.json()["description"] == "Not Found: method not found"


async def test_fail_next_gives_429_with_retry_after_once(server: FakeTelegram) -> None:
    server.fail_next("sendMessage", retry_after=3)
    response = await _raw(server, "sendMessage", chat_id="42", text="hi")
    assert response.status_code == 429
    assert response.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 3},
    }
    assert (await _raw(server, "sendMessage", chat_id="42", text="hi")).status_code == 200

    server.fail_next("sendMessage")
    async with Bot(TOKEN, base_url=server.base_url) as bot:
        with pytest.raises(RetryAfter):
            await bot.send_message(42, "hi")


async def test_commands_round_trip(server: FakeTelegram) -> None:
    async with Bot(TOKEN, base_url=server.base_url) as bot:
        await bot.set_my_commands([("buy", "Place a buy order")])
        assert server.commands == [{"command": "buy", "description": "Place a buy order"}]
        assert [c.command for c in await bot.get_my_commands()] == ["buy"]


async def test_wait_for_timeout_explains(server: FakeTelegram) -> None:
    await _raw(server, "sendMessage", chat_id="42", text="only this")
    with pytest.raises(AssertionError, match="only this"):
        await server.wait_for(lambda s: False, timeout=0.2, what="nothing")
