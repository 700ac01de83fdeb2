"""The per-call-class HTTP timeouts both adapters use (style.md "Absorb" 8).

A connect/pool timeout means nothing was sent; a read/write timeout on `orders` means the
outcome is unknown, so that budget is kept short enough for the user to get an answer and long
enough not to abandon orders the OMS is still acknowledging. Kotak and mStock need the same
budgets (mStock's SDK waits 7 s on everything, ref §10; orders get a little more, the master
much more), so they share one definition: `KotakTimeouts` and `MStockTimeouts` name it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

__all__ = ["CallTimeouts"]


def _timeout(read: float, connect: float) -> httpx.Timeout:
    return httpx.Timeout(read, connect=connect, pool=connect)


@dataclass(frozen=True, slots=True)
class CallTimeouts:
    """One explicit `httpx.Timeout` per call class."""

    login: httpx.Timeout = field(default_factory=lambda: _timeout(15.0, 5.0))
    orders: httpx.Timeout = field(default_factory=lambda: _timeout(10.0, 3.0))
    reports: httpx.Timeout = field(default_factory=lambda: _timeout(10.0, 5.0))
    market_data: httpx.Timeout = field(default_factory=lambda: _timeout(8.0, 5.0))
    master: httpx.Timeout = field(default_factory=lambda: _timeout(120.0, 10.0))
