"""A Confirm tap's answer goes within a bound even when the desk never hands its order over
(stuck on its database write): real python-telegram-bot over HTTP to the fake Bot API."""

from __future__ import annotations

from telegram import Bot, CallbackQuery, User

from handlers.orders import _TapAnswer
from tests.fakes.telegram_server import DEFAULT_TOKEN, FakeTelegram


async def test_the_answer_goes_by_itself_when_nothing_starts_it() -> None:
    async with (
        FakeTelegram(DEFAULT_TOKEN) as telegram,
        Bot(DEFAULT_TOKEN, base_url=telegram.base_url) as bot,
    ):
        query = CallbackQuery("7", User(4242, "Trader", is_bot=False), "x", data="ok:abc")
        query.set_bot(bot)
        answer = _TapAnswer(query, "Sending…")  # and then neither send() nor sent()
        answered = await telegram.wait_for(
            lambda t: next(iter(t.callback_answers), None), timeout=10, what="the answer"
        )
        assert answered["callback_query_id"] == "7" and answered["text"] == "Sending…"
        await answer.sent()  # the end of the handler: nothing more is sent
        assert len(telegram.callback_answers) == 1
