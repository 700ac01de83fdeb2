"""A fake Telegram Bot API server for end-to-end tests.

It runs an aiohttp app on 127.0.0.1 (random free port) that speaks just enough of the Bot API
for the *real* python-telegram-bot ``Application`` to long-poll, send and edit messages and
answer callback queries against it (``ApplicationBuilder().base_url(server.base_url)``).
Tests inject user updates (:meth:`FakeTelegram.send_text`, :meth:`FakeTelegram.tap`) and
observe what the bot did (:attr:`FakeTelegram.calls`, :meth:`FakeTelegram.messages`,
:meth:`FakeTelegram.wait_for`, ...).

Waiting is event-driven: every state change (a request handled, an update injected) fires an
``asyncio.Event`` that is then swapped for a fresh one, so waiters wake immediately instead of
sleep-polling. Swapping events (rather than an ``asyncio.Condition``) lets the synchronous
injection helpers notify without acquiring a lock.
"""

# The waiting helpers take a plain ``timeout=`` deadline: it reads best in tests.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import html
import inspect
import itertools
import json
import re
import time
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web

JSON = dict[str, Any]
DEFAULT_TOKEN = "123456:TEST-TOKEN"
Predicate = Callable[["FakeTelegram"], object]

# PTB sends strings raw and json.dumps() everything else, so a value is JSON-decoded unless it
# is a field that is always a string in the Bot API (a text of "123" must stay "123").
STRING_FIELDS = frozenset(
    {"text", "parse_mode", "callback_query_id", "url", "caption", "description", "title", "name"}
)
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
# Upper bound on how long wait_for() sleeps between predicate checks, so predicates over state
# the server does not own (a database, a broker fake) still get re-evaluated.
_FALLBACK_TICK = 0.1


class ApiError(Exception):
    """Raised inside a method handler to answer with a Bot API error envelope."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def envelope(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


@dataclass
class StoredMessage:
    """Current state of a message the bot sent; edits update it in place."""

    chat_id: int
    message_id: int
    text: str
    parse_mode: str | None = None
    reply_markup: JSON | None = None
    date: int = field(default_factory=lambda: int(time.time()))
    edit_texts: list[str] = field(default_factory=list)  # text of each editMessageText, in order
    deleted: bool = False
    photo: bytes | None = None  # sendPhoto: the picture's bytes (`text` holds the caption)
    silent: bool = False  # sent with disable_notification

    @property
    def plain(self) -> str:
        """What the user sees: tags stripped and entities decoded when sent as HTML."""
        if (self.parse_mode or "").upper() != "HTML":
            return self.text
        return html.unescape(re.sub(r"<[^>]+>", "", self.text))

    def to_api(self, bot_user: JSON) -> JSON:
        """Render as a Bot API ``Message`` sent by ``bot_user``."""
        msg: JSON = {
            "message_id": self.message_id,
            "date": self.date,
            "chat": {"id": self.chat_id, "type": "private"},
            "from": bot_user,
        }
        if self.photo is None:
            msg["text"] = self.text
        else:
            msg["caption"] = self.text
            msg["photo"] = [
                {
                    "file_id": f"photo-{self.chat_id}-{self.message_id}",
                    "file_unique_id": f"u{self.chat_id}-{self.message_id}",
                    "width": 640,
                    "height": 480,
                    "file_size": len(self.photo),
                }
            ]
        # Telegram only echoes inline keyboards; PTB would fail to parse a reply keyboard here.
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            msg["reply_markup"] = self.reply_markup
        return msg


def decode_params(form: Mapping[str, Any]) -> JSON:
    """Undo PTB's wire encoding: JSON-decode non-string fields, keep files and raw strings."""
    params: JSON = {}
    for key, value in form.items():
        if isinstance(value, str) and key not in STRING_FIELDS:
            with contextlib.suppress(ValueError):  # else a real string, e.g. chat_id="@chan"
                value = json.loads(value)
        params[key] = value
    return params


class FakeTelegram:
    """In-process fake of ``https://api.telegram.org`` for a single bot token."""

    def __init__(self, token: str = DEFAULT_TOKEN) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_user: JSON = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "TestBot",
            "username": "test_bot",
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.calls: list[tuple[str, JSON]] = []
        # `time.perf_counter()` at each call's arrival, index for index with `calls`.
        self.arrivals: list[float] = []
        # update_id -> `time.perf_counter()` when getUpdates first handed the update out.
        self.handed_out: dict[int, float] = {}
        self.callback_answers: list[JSON] = []
        self.commands: list[JSON] = []
        self.port = 0
        self._messages: dict[int, list[StoredMessage]] = defaultdict(list)
        self._message_ids: dict[int, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self._updates: list[JSON] = []
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._failures: dict[str, deque[ApiError]] = defaultdict(deque)
        self._never_started: set[int] = set()
        self._holds: dict[str, asyncio.Event] = {}
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        # While down: "502" answers every call with a proxy's Bad Gateway page, "refused"
        # closes the listening socket (connection refused). Calls made then are only counted.
        self._down: str | None = None
        self.calls_while_down = 0
        # Keyed by lower-case name (Telegram method names are case-insensitive). Handlers are
        # plain functions, except getUpdates which returns a coroutine because it long-polls.
        self._methods: dict[str, Callable[[JSON], Any]] = {
            "getme": lambda _: self.bot_user,
            "getupdates": self._get_updates,
            "deletewebhook": lambda _: True,
            "sendchataction": lambda _: True,
            "setmycommands": lambda p: self._set_commands(p.get("commands", [])),
            "deletemycommands": lambda _: self._set_commands([]),
            "getmycommands": lambda _: self.commands,
            "answercallbackquery": self._answer_callback_query,
            "sendmessage": self._send_message,
            "sendphoto": self._send_photo,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "getchat": self._get_chat,
        }

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Bind 127.0.0.1 on a free port and start serving."""
        app = web.Application(client_max_size=50 * 1024 * 1024)  # room for uploaded files
        app.router.add_post("/bot{token}/{method}", self._handle)
        # A short shutdown timeout: a long-poll still in flight must not stall stop().
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await self._site.start()
        self.port = self._runner.addresses[0][1]
        self._closing = False

    async def go_down(self, how: str = "502") -> None:
        """Telegram unreachable until :meth:`come_up`: ``"502"`` answers every call with a
        proxy's Bad Gateway page (not the Bot API envelope), ``"refused"`` stops listening so
        connections are refused."""
        if how not in ("502", "refused"):
            raise ValueError(f"unknown outage {how!r}")
        self._down = how
        if how == "refused" and self._site is not None:
            await self._site.stop()
            self._site = None

    async def come_up(self) -> None:
        """End an outage: serve again on the same port."""
        if self._down == "refused" and self._runner is not None:
            self._site = web.TCPSite(self._runner, "127.0.0.1", self.port)
            await self._site.start()
        self._down = None
        self._notify()

    async def stop(self) -> None:
        """Release held getUpdates requests, then shut the server down."""
        self._closing = True
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """Value for ``ApplicationBuilder().base_url(...)``; PTB appends the token."""
        if self._runner is None:
            raise RuntimeError("FakeTelegram is not started")
        return f"http://127.0.0.1:{self.port}/bot"

    # ------------------------------------------------------------------ injection
    def send_text(
        self, user_id: int, text: str, chat_id: int | None = None, chat_type: str = "private"
    ) -> int:
        """Queue a text message from a user (in a private chat unless `chat_type` says "group",
        "supergroup" or "channel"); returns its update_id."""
        chat = user_id if chat_id is None else chat_id
        message: JSON = {
            "message_id": next(self._message_ids[chat]),
            "date": int(time.time()),
            "chat": {"id": chat, "type": chat_type},
            "from": self._user(user_id),
            "text": text,
        }
        if text.startswith("/"):  # CommandHandler only matches messages with this entity
            command = text.split(maxsplit=1)[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return self._enqueue({"message": message})

    def tap(self, user_id: int, message_id: int, data: str, chat_id: int | None = None) -> int:
        """Queue a press of an inline button on a stored bot message; returns its update_id."""
        chat = user_id if chat_id is None else chat_id
        query: JSON = {
            "id": str(next(self._callback_ids)),
            "from": self._user(user_id),
            "message": self.message(chat, message_id).to_api(self.bot_user),
            "chat_instance": "x",
            "data": data,
        }
        return self._enqueue({"callback_query": query})

    def tap_many(
        self, user_id: int, message_id: int, data: str, times: int, chat_id: int | None = None
    ) -> list[int]:
        """Queue `times` presses of one button at the same moment: they are appended together
        and waiters are woken once, so a single getUpdates hands them all out in one batch (up
        to its `limit`). Returns their update_ids."""
        chat = user_id if chat_id is None else chat_id
        message = self.message(chat, message_id).to_api(self.bot_user)
        ids = []
        for _ in range(times):
            update_id = next(self._update_ids)
            query: JSON = {
                "id": str(next(self._callback_ids)),
                "from": self._user(user_id),
                "message": message,
                "chat_instance": "x",
                "data": data,
            }
            self._updates.append({"update_id": update_id, "callback_query": query})
            ids.append(update_id)
        self._notify()
        return ids

    def fail_next(
        self,
        method: str,
        status: int = 429,
        description: str = "Too Many Requests: retry after 1",
        retry_after: int | None = None,
    ) -> None:
        """Make the next call of ``method`` fail once with this error envelope.

        ``retry_after`` defaults to 1 for status 429 only: PTB raises ``RetryAfter`` whenever
        the parameter is present, whatever the status.
        """
        if retry_after is None and status == 429:
            retry_after = 1
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        self._failures[method.lower()].append(ApiError(status, description, parameters))

    def never_started(self, *user_ids: int) -> None:
        """These users have never opened the bot and pressed Start: as Telegram does, sending
        to them or asking getChat about them answers 400 "chat not found", until they send the
        bot something (any injected message or tap)."""
        self._never_started.update(user_ids)

    def hold(self, method: str) -> asyncio.Event:
        """Hold every call of ``method`` (Telegram being slow) until the returned event is set.

        The calls are recorded when they arrive, so a test can see one waiting.
        """
        event = self._holds[method.lower()] = asyncio.Event()
        return event

    # ------------------------------------------------------------------ observation
    def calls_of(self, method: str) -> list[JSON]:
        """Params of every call of ``method``, in order."""
        return [params for name, params in self.calls if name.lower() == method.lower()]

    def messages(self, chat_id: int) -> list[StoredMessage]:
        """Every message the bot sent to ``chat_id`` (deleted ones flagged), in order."""
        return list(self._messages.get(chat_id, []))

    def message(self, chat_id: int, message_id: int) -> StoredMessage:
        """The stored bot message; raises KeyError if the bot never sent it."""
        for record in self._messages.get(chat_id, []):
            if record.message_id == message_id:
                return record
        raise KeyError(f"no bot message {message_id} in chat {chat_id}")

    async def wait_for(self, predicate: Predicate, timeout: float = 5.0, what: str = "") -> Any:
        """Wait until ``predicate(self)`` is truthy and return its value.

        Raises AssertionError with the recent calls and messages on timeout.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not (result := predicate(self)):
            remaining = deadline - loop.time()
            if remaining <= 0:
                label = what or getattr(predicate, "__name__", repr(predicate))
                raise AssertionError(f"timed out after {timeout}s waiting for {label}\n{self}")
            await self._wait_changed(min(remaining, _FALLBACK_TICK))
        return result

    async def next_message(
        self, chat_id: int, timeout: float = 5.0, after: int | None = None
    ) -> StoredMessage:
        """Wait for a new bot message in ``chat_id`` and return it.

        "New" means index ``after`` of :meth:`messages`; ``after`` defaults to the number of
        messages already there at call time.
        """
        seen = len(self._messages.get(chat_id, [])) if after is None else after
        await self.wait_for(
            lambda s: len(s._messages.get(chat_id, [])) > seen,
            timeout,
            f"bot message #{seen + 1} in chat {chat_id}",
        )
        return self._messages[chat_id][seen]

    async def wait_for_edit(
        self,
        chat_id: int,
        message_id: int,
        predicate: Callable[[str], object] | None = None,
        timeout: float = 5.0,
    ) -> StoredMessage:
        """Wait until message has had an editMessageText (whose text satisfies ``predicate``).

        Edits made before the call count too, so there is no race with a fast bot.
        """

        def edited(server: FakeTelegram) -> bool:
            try:
                texts = server.message(chat_id, message_id).edit_texts
            except KeyError:
                return False
            return any(predicate is None or predicate(text) for text in texts)

        await self.wait_for(edited, timeout, f"an edit of message {message_id} in chat {chat_id}")
        return self.message(chat_id, message_id)

    def __str__(self) -> str:
        """Recent non-polling calls and every stored message: the context for a failed wait."""
        recent = [(name, params) for name, params in self.calls if name != "getUpdates"][-15:]
        lines = ["recent calls (getUpdates omitted):"]
        lines += [f"  {name} {params!r:.200}" for name, params in recent] or ["  (none)"]
        lines.append("bot messages:")
        for records in self._messages.values():
            for r in records:
                markup = "kb" if r.reply_markup else "no kb"
                lines.append(f"  chat {r.chat_id} #{r.message_id} {r.text!r:.80} ({markup})")
        return "\n".join(lines)

    # ------------------------------------------------------------------ plumbing
    def _notify(self) -> None:
        """Wake every waiter; each re-checks its condition against the new state."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_changed(self, max_wait: float) -> None:
        # Grab the current event before the first await so a notify cannot slip past us.
        event = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), max_wait)

    def _user(self, user_id: int) -> JSON:
        """The sender of an injected update: writing to the bot is what opens a chat with it."""
        self._never_started.discard(user_id)
        return {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}

    def _enqueue(self, payload: JSON) -> int:
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **payload})
        self._notify()
        return update_id

    async def _handle(self, request: web.Request) -> web.Response:
        arrived = time.perf_counter()  # before the body is read and parsed
        if self._down is not None:
            self.calls_while_down += 1
            return web.Response(status=502, text="<html>502 Bad Gateway</html>")
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").envelope(), status=401)
        method = request.match_info["method"]
        params = decode_params(await request.post())
        self.calls.append((method, params))
        self.arrivals.append(arrived)
        try:
            result = await self._dispatch(method.lower(), params)
        except ApiError as exc:
            return web.json_response(exc.envelope(), status=exc.status)
        except KeyError as exc:  # a required parameter is missing
            error = ApiError(400, f"Bad Request: parameter {exc} is required")
            return web.json_response(error.envelope(), status=400)
        finally:
            self._notify()
        return web.json_response({"ok": True, "result": result})

    async def _dispatch(self, method: str, params: JSON) -> Any:
        """A scripted failure first, then the method's handler; raises `ApiError`."""
        failures = self._failures.get(method)
        if failures:
            raise failures.popleft()
        held = self._holds.get(method)
        if held is not None:
            await held.wait()
        handler = self._methods.get(method)
        if handler is None:
            raise ApiError(404, "Not Found: method not found")
        result = handler(params)
        if inspect.isawaitable(result):
            result = await result
        return result

    def _live_message(self, params: JSON, action: str) -> StoredMessage:
        try:
            record = self.message(params["chat_id"], params["message_id"])
        except KeyError:
            record = None
        if record is None or record.deleted:
            raise ApiError(400, f"Bad Request: message to {action} not found")
        return record

    # ------------------------------------------------------------------ Bot API methods
    async def _get_updates(self, params: JSON) -> list[JSON]:
        """Long-poll: hold the request until an update arrives or ``timeout`` elapses.

        Answering an empty list at once would make PTB poll in a tight loop.
        """
        offset = int(params.get("offset", 0))
        limit = int(params.get("limit", 100))
        if offset > 0:  # confirming: Telegram forgets everything below offset
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + float(params.get("timeout", 0))
        while True:
            pending = [u for u in self._updates if u["update_id"] >= offset][:limit]
            remaining = deadline - loop.time()
            if pending or remaining <= 0 or self._closing:
                now = time.perf_counter()
                for update in pending:
                    self.handed_out.setdefault(update["update_id"], now)
                return pending
            await self._wait_changed(remaining)

    def _set_commands(self, commands: list[JSON]) -> bool:
        self.commands = list(commands)
        return True

    def _answer_callback_query(self, params: JSON) -> bool:
        self.callback_answers.append(params)
        return True

    def _known_chat(self, chat_id: int) -> None:
        if chat_id in self._never_started:
            raise ApiError(400, "Bad Request: chat not found")

    def _get_chat(self, params: JSON) -> JSON:
        chat_id = params["chat_id"]
        self._known_chat(chat_id)
        no_gifts = dict.fromkeys(
            (
                "unlimited_gifts",
                "limited_gifts",
                "unique_gifts",
                "premium_subscription",
                "gifts_from_channels",
            ),
            False,
        )
        return {
            "id": chat_id,
            "type": "private",
            "first_name": f"User{chat_id}",
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": no_gifts,
        }

    def _send_message(self, params: JSON) -> JSON:
        chat_id = params["chat_id"]
        self._known_chat(chat_id)
        record = StoredMessage(
            chat_id=chat_id,
            message_id=next(self._message_ids[chat_id]),
            text=params["text"],
            parse_mode=params.get("parse_mode"),
            reply_markup=params.get("reply_markup"),
            silent=bool(params.get("disable_notification")),
        )
        self._messages[chat_id].append(record)
        return record.to_api(self.bot_user)

    def _send_photo(self, params: JSON) -> JSON:
        """The picture arrives as a multipart file (PTB uploads bytes that way)."""
        chat_id = params["chat_id"]
        self._known_chat(chat_id)
        upload = params["photo"]
        data = (
            upload.file.read() if isinstance(upload, web.FileField) else bytes(str(upload), "utf-8")
        )
        record = StoredMessage(
            chat_id=chat_id,
            message_id=next(self._message_ids[chat_id]),
            text=params.get("caption", ""),
            parse_mode=params.get("parse_mode"),
            photo=data,
            silent=bool(params.get("disable_notification")),
        )
        self._messages[chat_id].append(record)
        return record.to_api(self.bot_user)

    def _edit_message_text(self, params: JSON) -> JSON:
        record = self._live_message(params, "edit")
        markup = params.get("reply_markup")  # absent -> keyboard removed, as Telegram does
        if params["text"] == record.text and markup == record.reply_markup:
            raise ApiError(400, NOT_MODIFIED)
        record.text, record.reply_markup = params["text"], markup
        record.parse_mode = params.get("parse_mode")
        record.edit_texts.append(record.text)
        return record.to_api(self.bot_user)

    def _edit_message_reply_markup(self, params: JSON) -> JSON:
        record = self._live_message(params, "edit")
        markup = params.get("reply_markup")
        if markup == record.reply_markup:
            raise ApiError(400, NOT_MODIFIED)
        record.reply_markup = markup
        return record.to_api(self.bot_user)

    def _delete_message(self, params: JSON) -> bool:
        self._live_message(params, "delete").deleted = True
        return True
