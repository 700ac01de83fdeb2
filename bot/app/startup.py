"""One start-up message instead of the start's own transitions, and every session/IP event in the
audit log.

Starting an account walks its gate through states nobody needs to read one by one: "orders
blocked: no session", "session created", "orders open again", three pushes for one start.
`AdminNotices` sits between the account and the notifier: until `ready()`, it keeps the
account's notices back, and `ready()` turns them into one `BotStarted` with the gate's verdict
at that moment (orders open, or why not) and the notices that still need a human (a changed
whitelist, none configured). After that every notice goes straight through.

Each notice is also written to the audit table as it happens (kind `event`), so the daily summary
can list the day's session and IP incidents after a restart too.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.notify.events import (
    AdminEvent,
    BotStarted,
    BotStopping,
    EgressIPChanged,
    LoginFailing,
    NoWhitelist,
    OrdersBlocked,
    SessionCreated,
    StartupNote,
    StaticIPsChanged,
)
from bot.store.audit import AuditRepo
from bot.store.preferences import INCIDENT

log = logging.getLogger(__name__)

__all__ = ["AdminNotices", "incident_text"]


def incident_text(event: AdminEvent) -> str:
    """`Kind: detail` for the audit log, plain words from the event's own fields."""
    match event:
        case OrdersBlocked():
            detail = event.problem
        case LoginFailing():
            detail = event.error
        case SessionCreated():
            detail = f"{event.reason}" + (f", from {event.ip}" if event.ip else "")
        case EgressIPChanged():
            detail = f"{event.previous} → {event.current}"
        case StaticIPsChanged():
            detail = f"{list(event.previous)} → {list(event.current)}"
        case _:
            detail = ""
    return f"{type(event).__name__}: {detail}"[:300]


class AdminNotices:
    def __init__(
        self, tell: Callable[[AdminEvent], Awaitable[None]], audit: AuditRepo | None = None
    ) -> None:
        self._tell = tell
        self._audit = audit
        self._held: list[AdminEvent] | None = []

    async def __call__(self, event: AdminEvent) -> None:
        """The account's `notify`: audit, then hold (while starting) or tell."""
        if self._audit is not None and not isinstance(event, BotStarted | BotStopping):
            try:
                await self._audit.add(None, INCIDENT, incident_text(event))
            except Exception:
                log.exception("could not write a session event to the audit log")
        if self._held is not None:
            self._held.append(event)
            return
        await self._tell(event)

    def ready(
        self, *, broker: str, account: str, paper: bool, orders_problem: str | None
    ) -> BotStarted:
        """Stop holding notices back; the one start-up message, with those that still matter."""
        held, self._held = self._held or [], None
        notes: list[StartupNote] = [
            e for e in held if isinstance(e, StaticIPsChanged | NoWhitelist | EgressIPChanged)
        ]
        return BotStarted(broker, account, paper, orders_problem, tuple(notes))
