"""The call policy: which broker calls may be retried, and how.

- A read on an expired session logs in again and is retried once: nothing was executed.
- An order call (place, modify, cancel) passes the gate first (fail closed: nothing leaves when
  the broker would refuse it), makes a new session when the current one came from another IP,
  and is paced by the account's rate limiter (10 per second, rules.md §1.2).
- An IP refusal re-checks the egress IP at once. On a non-whitelisted IP it explains and does not
  retry. Otherwise it makes a new session from this IP and retries once: an IP refusal means
  nothing was placed, so that retry cannot double an order.
- A refusal that does not prove nothing was done (an expired session: an HTTP 401/403 or the
  broker's own session code may come from a gateway after the order went in) is never followed
  by a blind re-send. The account logs in again and looks at the order book from the new
  session: what it shows settles the call (`_placed`, `_modified`, `_cancelled` say what counts as
  done and as provably not done); the call is sent once more only when the book proves it was not
  done, and when the book cannot be read the outcome is unknown (`OutcomeCause.UNCHECKED`).
- A reused tag (`DuplicateTag`) means the order was accepted earlier: it is looked up by tag and
  adopted, never sent again.
- Nothing else is retried: a throttle, a rejection or an unreachable broker (nothing was done) is
  reported; an unknown outcome is for the tracker to reconcile.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from bot.accounts.gate import Gate
from bot.accounts.limiter import SlidingWindowLimiter
from bot.accounts.session import Session
from bot.clock import utcnow
from bot.errors import UserError
from brokers.base import Broker
from brokers.errors import (
    BrokerError,
    DuplicateTag,
    IPNotWhitelisted,
    OrderNotFound,
    OrderNotModifiable,
    OutcomeCause,
    SessionExpired,
    SessionIPMismatch,
    UnknownOutcome,
)
from brokers.models import ModifyRequest, Order, OrderRequest, OrderStatus, SessionInfo

log = logging.getLogger(__name__)

T = TypeVar("T")

# After a new session: the call's result when the order book shows it took effect, None when the
# book shows it provably did not. Raises a `BrokerRejected` when the book shows it cannot be done.
_Settle = Callable[[list[Order]], str | None]


def _why(exc: IPNotWhitelisted | SessionIPMismatch) -> str:
    if isinstance(exc, SessionIPMismatch):
        return "the session was created from another IP address"
    return "this server's IP address is not whitelisted"


def ip_refusal(exc: IPNotWhitelisted | SessionIPMismatch) -> str:
    """'The broker refused the order because …', worded from the error's class, with the
    broker's own code when it gave one (for a support ticket). No full stop: callers go on."""
    code = f" (broker code {exc.code})" if exc.code else ""
    return f"The broker refused the order because {_why(exc)}{code}"


def _placed(request: OrderRequest) -> _Settle:
    """A place took effect when the book holds an order with our tag; then that order is
    adopted (even a rejected one: it was placed). Tags are unique per order, and the broker
    refuses a reused one, so a second send with the same tag cannot make a second order."""

    def settle(book: list[Order]) -> str | None:
        matches = [o.order_id for o in book if o.tag == request.tag]
        if len(matches) > 1:
            log.warning("tag %s is on %d orders: %s", request.tag, len(matches), matches)
        return matches[0] if matches else None

    return settle


def _modified(request: ModifyRequest) -> _Settle:
    """A modify took effect when the order shows the requested quantity, price, type and
    trigger. It provably did not when the order is still working with other values: a modify
    sets absolute values, so sending the same one again cannot change more than once. When the
    order is gone or final, the modify cannot be done (the broker's own refusals, raised)."""

    def settle(book: list[Order]) -> str | None:
        order = _order_in(book, request.order_id)
        trigger_ok = request.trigger_price is None or order.trigger_price == request.trigger_price
        shows = (order.quantity, order.price, order.order_type) == (
            request.quantity,
            request.price,
            request.order_type,
        )
        if shows and trigger_ok:
            return order.order_id
        if order.status.is_final:
            raise _closed(order)
        return None

    return settle


def _cancelled(order_id: str) -> _Settle:
    """A cancel took effect when the order shows CANCELLED. It provably did not while the order
    is still working (cancelling twice cannot cancel more). A complete or rejected order cannot
    be cancelled (raised, as the broker would)."""

    def settle(book: list[Order]) -> str | None:
        order = _order_in(book, order_id)
        if order.status is OrderStatus.CANCELLED:
            return order.order_id
        if order.status.is_final:
            raise _closed(order)
        return None

    return settle


def _closed(order: Order) -> OrderNotModifiable:
    """What the broker would answer for a change to a complete, rejected or cancelled order."""
    return OrderNotModifiable(f"order {order.order_id} is already {order.status.value.lower()}")


def _order_in(book: list[Order], order_id: str) -> Order:
    for order in book:
        if order.order_id == order_id:
            return order
    raise OrderNotFound(f"order {order_id} is not in the order book")


class CallPolicy:
    def __init__(
        self, broker: Broker, gate: Gate, session: Session, limiter: SlidingWindowLimiter
    ) -> None:
        self._broker = broker
        self._gate = gate
        self._session = session
        self._limiter = limiter
        # When the broker last answered a call (for /status): None until it has.
        self.last_answer: datetime | None = None

    async def read(self, fn: Callable[[], Awaitable[T]]) -> T:
        """A read: on an expired session log in again and retry once (nothing was executed)."""
        if self._session.info is None:
            await self._session.login("no session")
        used = self._session.info
        try:
            result = await fn()
        except SessionExpired:
            await self._session.renew(used, "session expired", lapsed=True)
            result = await fn()
        self.last_answer = utcnow()
        return result

    async def place(self, request: OrderRequest) -> str:
        return await self._order(lambda: self._broker.place_order(request), _placed(request))

    async def modify(self, request: ModifyRequest) -> str:
        return await self._order(lambda: self._broker.modify_order(request), _modified(request))

    async def cancel(self, order_id: str, *, amo: bool = False) -> str:
        return await self._order(
            lambda: self._broker.cancel_order(order_id, amo=amo), _cancelled(order_id)
        )

    async def _order(self, send: Callable[[], Awaitable[str]], settle: _Settle) -> str:
        """An order call: gated, from a session of this IP, rate limited; retried only as the
        module docstring says."""
        await self._open_for_orders()
        used = self._session.info
        try:
            return await self._paced(send)
        except DuplicateTag:
            return await self._adopt(settle)
        except SessionExpired:
            return await self._after_session_refusal(used, send, settle)
        except (SessionIPMismatch, IPNotWhitelisted) as exc:
            await self._after_ip_refusal(exc, used)
            # The IP is (or may be) whitelisted: nothing was placed, so one more send from a
            # session of this IP cannot double the order.
            return await self._once_more(send, settle)

    async def _paced(self, send: Callable[[], Awaitable[str]]) -> str:
        await self._limiter.acquire()
        answer = await send()
        self.last_answer = utcnow()
        return answer

    async def _after_session_refusal(
        self, used: SessionInfo | None, send: Callable[[], Awaitable[str]], settle: _Settle
    ) -> str:
        """Log in again, then let the order book from the new session settle the call."""
        try:
            await self._session.renew(
                used, "the broker said the session expired during an order call", lapsed=True
            )
            done = settle(await self._broker.orders())
        except (OrderNotFound, OrderNotModifiable):
            raise
        except (BrokerError, UserError) as exc:
            reason = exc.message if isinstance(exc, BrokerError) else exc.text
            raise UnknownOutcome(
                "The broker refused the session during an order call, and I could not check the "
                f"order book afterwards ({reason}); the order may or may not have gone through",
                cause=OutcomeCause.UNCHECKED,
            ) from None
        if done is not None:
            log.info("an order call refused with an expired session had gone through: %s", done)
            return done
        return await self._once_more(send, settle)

    async def _once_more(self, send: Callable[[], Awaitable[str]], settle: _Settle) -> str:
        """The one further send; a session refusal now is not followed by a third."""
        try:
            return await self._paced(send)
        except DuplicateTag:
            return await self._adopt(settle)
        except SessionExpired as exc:
            raise UnknownOutcome(
                f"The broker refused the session again ({exc.message}); the order may or may not "
                "have gone through",
                cause=OutcomeCause.UNCHECKED,
                code=exc.code,
            ) from None

    async def _adopt(self, settle: _Settle) -> str:
        """The broker says the tag was used: find that order; never send again."""
        try:
            done = settle(await self._broker.orders())
        except BrokerError as exc:
            raise UnknownOutcome(
                "The broker already has an order with this tag, and reading the order book "
                f"failed ({exc.message})",
                cause=OutcomeCause.UNCHECKED,
            ) from None
        if done is None:
            raise UnknownOutcome(
                "The broker already has an order with this tag, but the order book does not "
                "show it yet",
                cause=OutcomeCause.UNCHECKED,
            )
        return done

    async def _after_ip_refusal(
        self, exc: IPNotWhitelisted | SessionIPMismatch, used: SessionInfo | None
    ) -> None:
        """Explain a refusal that a new session cannot fix; otherwise make that new session."""
        await self._gate.refresh(self._session)
        ip = self._gate.egress_ip
        whitelist = self._gate.whitelist
        if whitelist.configured and not whitelist.allows(ip):
            self._gate.update(self._session)
            raise UserError(
                "ip_not_whitelisted",
                f"{ip_refusal(exc)}, and {self._gate.ip_problem()}. Nothing was placed.",
            ) from None
        if not whitelist.configured and isinstance(exc, IPNotWhitelisted):
            raise UserError(
                "ip_not_whitelisted",
                f"{ip_refusal(exc)}; this server's IP address is {ip or 'unknown'}. Nothing "
                "was placed. Register the IP with your broker and set STATIC_IP_PRIMARY.",
            ) from None
        await self._session.renew(used, f"the broker refused an order: {_why(exc)}")

    async def _open_for_orders(self) -> None:
        """Fail closed: refuse before anything leaves when the broker would refuse anyway."""
        self._gate.check_orders_open()
        ip = self._gate.egress_ip
        session = self._session
        if session.info is not None and self._gate.whitelist.configured and session.ip != ip:
            await session.renew(
                session.info, f"the session was created from {session.ip}, not {ip}"
            )
        if session.info is None:
            await session.login("no session")
