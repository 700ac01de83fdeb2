"""What an adapter does while one of its order requests is being written (httpx's `trace`).

Two moments of the write matter to the core, and only the adapter's HTTP client sees them:

- right before the request's headers go out, after any connect: the account's order-rate slot
  is taken there (`brokers.base.PacesOrderWrites`), since the broker counts requests when they
  arrive, and a slot taken earlier (before a connect, or a pause) could let 11 land in a second;
- once the whole request is out: a caller that has its own work to do while the order travels
  (the chat front end answering the Confirm tap) starts it then, not before, so that work never
  delays the request on the one event loop (bench/tap_to_wire.py). The caller says so by
  setting `request_written` around the order call; it is a context variable because the call
  passes through the account (gate, session, limiter) on the way, which need not know.

Both adapters hold one `OrderWrites` and pass `extensions()` with every order request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from typing import Any, Final

__all__ = ["WRITE_STARTS", "OrderWrites", "request_written"]

# The trace events httpcore emits right before a request's headers go on the wire (HTTP/1.1; the
# HTTP/2 connection emits the same name under `http2.`), after any connect.
WRITE_STARTS: Final = (
    "http11.send_request_headers.started",
    "http2.send_request_headers.started",
)
# ... and once the request's body is written: the whole request has left.
WRITE_ENDS: Final = (
    "http11.send_request_body.complete",
    "http2.send_request_body.complete",
)

# Called (once per request, with no argument) when an order request of the current task has
# been written whole; None: nobody asked.
request_written: ContextVar[Callable[[], None] | None] = ContextVar("request_written", default=None)


class OrderWrites:
    """One adapter's order-write hooks: the account's pacing, and the caller's
    `request_written`."""

    def __init__(self) -> None:
        self.pace: Callable[[], Awaitable[None]] | None = None

    def extensions(self) -> dict[str, Any] | None:
        """The httpx request extensions for an order request: the trace hook when anything
        waits on the write, else none (a request with no trace costs less)."""
        if self.pace is None and request_written.get() is None:
            return None
        return {"trace": self._on_trace}

    async def _on_trace(self, event: str, info: Mapping[str, Any]) -> None:
        if event in WRITE_STARTS:
            if self.pace is not None:
                await self.pace()
        elif event in WRITE_ENDS:
            written = request_written.get()
            if written is not None:
                written()
