"""The Telegram side of `bot.notify.Outbox`: python-telegram-bot calls and their errors mapped to
the notifier's small vocabulary (flood wait, bad markup, transient failure, chat unreachable).
Texts are HTML; sent with `markup=False` they go out stripped of their tags; `silent` sends
them with `disable_notification`. PTB raises `NetworkError` for a refused connection, a
timeout and any 5xx (502 included), so all of those reach the sender as `SendFailed`."""

from __future__ import annotations

from datetime import timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.notify import BadMarkup, ChatUnreachable, FloodWait, Keyboard, SendFailed
from handlers.render.markup import html_to_plain

_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def _markup(keyboard: Keyboard | None) -> InlineKeyboardMarkup | None:
    if not keyboard:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.text, callback_data=b.data) for b in row] for row in keyboard]
    )


def _seconds(value: int | float | timedelta) -> float:
    """RetryAfter.retry_after is an int before PTB 22.2 and may be a timedelta after."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramOutbox:
    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def send(
        self,
        chat_id: int,
        text: str,
        *,
        markup: bool,
        keyboard: Keyboard | None,
        silent: bool = False,
    ) -> int:
        try:
            message = await self._bot.send_message(
                chat_id,
                text if markup else html_to_plain(text),
                parse_mode=ParseMode.HTML if markup else None,
                reply_markup=_markup(keyboard),
                link_preview_options=_NO_PREVIEW,
                disable_notification=silent,
            )
        except Exception as exc:
            raise _translate(exc, chat_id) from exc
        return message.message_id

    async def send_photo(
        self, chat_id: int, png: bytes, caption: str, *, markup: bool, silent: bool = False
    ) -> int:
        """A picture (the daily P&L chart) with a short HTML caption (Telegram allows 1024
        characters: the words go as a message of their own)."""
        try:
            message = await self._bot.send_photo(
                chat_id,
                png,
                caption=caption if markup else html_to_plain(caption),
                parse_mode=ParseMode.HTML if markup else None,
                disable_notification=silent,
            )
        except Exception as exc:
            raise _translate(exc, chat_id) from exc
        return message.message_id

    async def edit(
        self, chat_id: int, message_id: int, text: str, *, markup: bool, keyboard: Keyboard | None
    ) -> None:
        try:
            await self._bot.edit_message_text(
                text if markup else html_to_plain(text),
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=ParseMode.HTML if markup else None,
                reply_markup=_markup(keyboard),
                link_preview_options=_NO_PREVIEW,
            )
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                return  # the card already says this: harmless
            raise _translate(exc, chat_id) from exc
        except Exception as exc:
            raise _translate(exc, chat_id) from exc


def _translate(exc: Exception, chat_id: int) -> Exception:
    if isinstance(exc, RetryAfter):
        return FloodWait(_seconds(exc.retry_after))
    if isinstance(exc, BadRequest) and "parse entities" in exc.message.lower():
        return BadMarkup(exc.message)
    if isinstance(exc, BadRequest) and "chat not found" in exc.message.lower():
        return ChatUnreachable(
            f"user {chat_id} has not opened the bot yet (Telegram: chat not found); they must "
            "open it in Telegram and press Start once"
        )
    if isinstance(exc, Forbidden):
        return ChatUnreachable(f"user {chat_id} blocked the bot or left (Telegram: {exc.message})")
    if isinstance(exc, BadRequest):
        return exc
    if isinstance(exc, NetworkError):
        return SendFailed(str(exc))
    return exc
