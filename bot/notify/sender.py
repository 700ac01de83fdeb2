"""The one sender: drains the persistent outbox to Telegram, paced, in order, losing nothing.

Publishing a push only writes its rows (`enqueue`: one short SQLite transaction) and wakes the
chat's worker, so a Telegram outage never blocks or slows the work that raised the push (an
order call, the tracker). Each chat with waiting rows has one worker task that sends them in
the order they were written:

- pacing: about one message a second per chat and at most `per_second` overall (Telegram
  allows ≈1/s per chat and ≈30/s per bot, rules.md §4; `AIORateLimiter` does not pace a
  private chat, style.md); rows that pile up meanwhile are coalesced into one message, and a
  worker waits `linger` (a tenth of a second) before its first message, so a burst raised
  together (the fills of one order-book poll) is one message too;
- flood control: a 429 holds the chat for its `retry_after`;
- Telegram unreachable (network down, 5xx): the rows stay and are retried with backoff up to
  `max_backoff`, for as long as it takes, across restarts (`start` picks up every chat with
  waiting rows);
- refused for good (chat not found, bot blocked): the rows are marked FAILED with one log line
  and the chat's next rows go on; any other failure (a bad request, a fault of ours) is tried
  a few times, a while apart, before it is failed the same way;
- markup refused: the same text is sent once more as plain text.

A row is marked SENT only after Telegram accepted it. Delivery is at least once: a crash (or a
timeout whose request Telegram did receive) between Telegram's answer and the mark sends that
message again at the next try, which is the right side to err on for a fill.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta

from bot.clock import utcnow
from bot.notify.outbox import Batch, keyboard_json, next_batch
from bot.notify.transport import (
    BadMarkup,
    ChatUnreachable,
    FloodWait,
    Keyboard,
    Outbox,
    SendFailed,
    split_message,
)
from bot.store.outbox import OutboxRepo

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

# How many waiting rows of one chat are read at a time: more than fit in one coalesced message.
_ROWS_PER_READ = 200
# A failure that is neither Telegram away nor a known refusal is tried this often in one run
# before it is failed (a send cut short by a shutdown is tried again at the next start).
_MAX_ODD_TRIES = 3
# Finished rows are kept this long for inspection, then pruned at start.
_KEEP = timedelta(days=7)


class Sender:
    def __init__(
        self,
        repo: OutboxRepo,
        outbox: Outbox,
        *,
        chat_interval: float = 1.0,
        per_second: float = 25.0,
        max_backoff: float = 60.0,
        linger: float = 0.1,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._repo = repo
        self._outbox = outbox
        self._chat_interval = chat_interval
        self._spacing = 1.0 / per_second
        self._max_backoff = max_backoff
        self._linger = linger
        self._clock = clock
        self._sleep = sleep
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._poked: set[int] = set()
        self._next_slot: dict[int, float] = {}
        self._shared_slot = 0.0
        self._running = False
        self._down_since: float | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    async def enqueue(
        self,
        chat_id: int,
        text: str,
        *,
        keyboard: Keyboard | None = None,
        silent: bool = False,
        coalesce_key: str | None = None,
        markup: bool = True,
        photo: bytes | None = None,
    ) -> None:
        """Write a push (split on line boundaries; the keyboard on its last part) and wake the
        chat's worker. Returns as soon as the rows are in SQLite, whatever Telegram is doing.
        A push with a keyboard is never coalesced: its buttons belong to its own text."""
        await self._repo.add(
            chat_id,
            [text] if photo is not None else split_message(text),
            markup=markup,
            keyboard=keyboard_json(keyboard),
            silent=silent,
            coalesce_key=None if keyboard or photo is not None else coalesce_key,
            photo=photo,
        )
        self._poke(chat_id)

    async def start(self) -> None:
        """Start sending, beginning with whatever waits: what an earlier run left undelivered
        and what was written before the start (the start-up messages). Those go out at once,
        without the `linger`: they are all written already, so nothing is left to gather, and
        the bot's first poll waits for the start-up messages (bench/startup.py)."""
        self._running = True
        await self._repo.prune(utcnow() - _KEEP)
        chats = await self._repo.waiting_chats()
        if chats:
            log.info("delivering waiting pushes to %d chat(s)", len(chats))
        for chat_id in chats:
            self._poke(chat_id, linger=False)

    async def stop(self) -> None:
        """Stop sending; rows not delivered yet stay in the outbox for the next start."""
        self._running = False
        tasks = list(self._workers.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._workers.clear()
        self._idle.set()

    async def idle(self) -> None:
        """Wait until no chat has rows waiting (every row sent or failed)."""
        await self._idle.wait()

    async def drained(self, chat_ids: Iterable[int]) -> None:
        """Wait until these chats have no rows waiting. A notice the bot waits for (the start
        and stop messages to admins) waits for its own chats, not for a backlog of pushes to
        other chats that a Telegram outage left behind."""
        chats = tuple(chat_ids)
        while busy := [self._workers[c] for c in chats if c in self._workers]:
            await asyncio.wait(busy)

    def _poke(self, chat_id: int, *, linger: bool = True) -> None:
        self._poked.add(chat_id)
        if self._running and chat_id not in self._workers:
            self._idle.clear()
            self._workers[chat_id] = asyncio.get_running_loop().create_task(
                self._drain(chat_id, linger=linger), name=f"sender-{chat_id}"
            )

    async def _drain(self, chat_id: int, *, linger: bool) -> None:
        """Send the chat's rows until none wait. The worker leaves only after a read that
        started after the last poke found nothing, so a row written meanwhile is never
        stranded (between that check and leaving there is no await)."""
        backoff, odd = 0.0, 0
        try:
            if linger:  # a burst raised together goes out as one message
                await self._sleep(self._linger)
            while True:
                self._poked.discard(chat_id)
                rows = await self._repo.waiting(chat_id, _ROWS_PER_READ)
                if not rows:
                    if chat_id in self._poked:
                        continue
                    return
                batch = next_batch(rows)
                await self._pace(chat_id)
                try:
                    await self._send(chat_id, batch)
                except FloodWait as exc:
                    await self._repo.attempted(batch.ids, str(exc))
                    self._hold(chat_id, exc.retry_after)
                except SendFailed as exc:
                    backoff = min(self._max_backoff, max(1.0, backoff * 2))
                    self._went_down(exc)
                    await self._repo.attempted(batch.ids, str(exc))
                    self._hold(chat_id, backoff)
                except (ChatUnreachable, BadMarkup) as exc:  # refused for good: retrying won't help
                    await self._repo.failed(batch.ids, str(exc))
                    log.warning("could not deliver %s to chat %s: %s", _what(batch), chat_id, exc)
                except Exception as exc:  # another refusal (a bad request), or a fault
                    odd += 1
                    if odd >= _MAX_ODD_TRIES:
                        odd = 0
                        await self._repo.failed(batch.ids, str(exc) or type(exc).__name__)
                        log.exception("could not deliver %s to chat %s", _what(batch), chat_id)
                    else:
                        await self._repo.attempted(batch.ids, str(exc) or type(exc).__name__)
                        self._hold(chat_id, self._max_backoff)
                else:
                    await self._repo.sent(batch.ids)
                    backoff, odd = 0.0, 0
                    self._came_back()
        except Exception:
            log.exception("delivery to chat %s stopped; its pushes wait for a restart", chat_id)
        finally:
            if self._workers.get(chat_id) is asyncio.current_task():
                del self._workers[chat_id]
            if not self._workers:
                self._idle.set()

    async def _send(self, chat_id: int, batch: Batch) -> None:
        try:
            await self._send_as(chat_id, batch, markup=batch.markup)
        except BadMarkup:
            if not batch.markup:
                raise
            log.warning(
                "Telegram refused a push's markup (chat %s); sending it as plain text", chat_id
            )
            await self._send_as(chat_id, batch, markup=False)
        finally:
            self._hold(chat_id, self._chat_interval)

    async def _send_as(self, chat_id: int, batch: Batch, *, markup: bool) -> None:
        if batch.photo is not None:
            await self._outbox.send_photo(
                chat_id, batch.photo, batch.text, markup=markup, silent=batch.silent
            )
        else:
            await self._outbox.send(
                chat_id, batch.text, markup=markup, keyboard=batch.keyboard, silent=batch.silent
            )

    async def _pace(self, chat_id: int) -> None:
        """Wait for the chat's next slot, then for a slot of the bot's overall rate."""
        wait = self._next_slot.get(chat_id, 0.0) - self._clock()
        if wait > 0:
            await self._sleep(wait)
        now = self._clock()
        slot = max(self._shared_slot, now)
        self._shared_slot = slot + self._spacing
        if slot > now:
            await self._sleep(slot - now)

    def _hold(self, chat_id: int, seconds: float) -> None:
        """Send nothing more to the chat for `seconds` (the longer hold wins)."""
        until = self._clock() + seconds
        self._next_slot[chat_id] = max(self._next_slot.get(chat_id, 0.0), until)

    def _went_down(self, exc: Exception) -> None:
        if self._down_since is None:
            self._down_since = self._clock()
            log.warning("Telegram is unreachable (%s); pushes wait in the outbox", exc)

    def _came_back(self) -> None:
        if self._down_since is not None:
            log.info("Telegram reachable again after %.0f s", self._clock() - self._down_since)
            self._down_since = None


def _what(batch: Batch) -> str:
    count = len(batch.ids)
    return "a notification" if count == 1 else f"{count} notifications"
