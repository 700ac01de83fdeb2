"""What every adapter needs to read a broker's reply: the body as JSON (or "not JSON"), the
`Retry-After` wait, and wire numbers as `Decimal`.

Brokers write numbers as strings, JSON numbers, blanks or zeros for "absent" (Kotak ref §5,
mStock ref §4 and §5), so both adapters read them through these few functions; what a zero
*means* stays the caller's decision (`dec` calls it absent).

Both instrument masters (Kotak's CSVs, mStock's JSON) also share the two tools that make a
150,000-row parse cheap: `Memo` (convert each distinct wire value once) and `gc_paused`.

Both clients also share what is not broker vocabulary at all: the IST trading date, the SHA-256
that lets a saved session prove which credential made it without storing the credential, the
server clock read from `Date`, the three-part `broker_ref` codec and the order-state fallback
(`order_status`).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any, Final, Generic, TypeVar

from brokers.models import OrderStatus

__all__ = [
    "IST",
    "NOT_JSON",
    "Memo",
    "RowMemo",
    "dec",
    "dec0",
    "gc_paused",
    "integer",
    "join_ref",
    "order_status",
    "parse_json",
    "plain",
    "retry_after_seconds",
    "server_clock",
    "sha256_hex",
    "split_ref",
    "today_ist",
]

IST: Final = timezone(timedelta(hours=5, minutes=30), "IST")

NOT_JSON: Final = object()  # what `parse_json` returns for an HTML page or truncated JSON
_ZERO = Decimal(0)

K = TypeVar("K")
V = TypeVar("V")


def parse_json(content: bytes) -> Any:
    """The parsed body, or `NOT_JSON`: a reply that is not JSON is garbage, never data."""
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return NOT_JSON


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` is either delta-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def dec(value: Any) -> Decimal | None:
    """A wire number (string or JSON number) -> Decimal; blanks, junk and zero -> None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not number.is_finite() or number == 0:
        return None
    return number


def dec0(value: Any) -> Decimal:
    return dec(value) or _ZERO


def integer(value: Any) -> int:
    number = dec(value)
    return int(number) if number is not None else 0


def plain(value: Decimal) -> str:
    """`21000`, `292.5`: no exponent, no trailing zeros (rules.md §3.6)."""
    return format(value.normalize(), "f")


class Memo(dict[K, V]):
    """`memo[raw]` converts `raw` on first sight and remembers the answer, None included: ticks,
    lots, expiries and strikes repeat across thousands of master rows. A hit is a plain dict
    lookup; only a miss reaches Python (`__missing__`)."""

    __slots__ = ("_convert",)

    def __init__(self, convert: Callable[[K], V]) -> None:
        super().__init__()
        self._convert = convert

    def __missing__(self, raw: K) -> V:
        value = self[raw] = self._convert(raw)
        return value


class RowMemo(Generic[K, V]):
    """`memo(row, key_for)` maps a report row to its model once per distinct row. The tracker
    reads the whole order book every few seconds and most rows have not changed since the last
    read: mapping 100 rows each time (dates, decimals, states) held the event loop for
    milliseconds at every poll, in the way of a Confirm tap (bench/tap_to_wire.py). A row is
    known by its items, all of them, so any change maps it again; a new `key_for` (a new day's
    master) forgets everything, and so does growing past `limit` rows."""

    __slots__ = ("_convert", "_key_for", "_limit", "_seen")

    def __init__(self, convert: Callable[[Mapping[str, Any], K], V], limit: int = 20_000) -> None:
        self._convert = convert
        self._limit = limit
        self._seen: dict[tuple[tuple[str, Any], ...], V] = {}
        self._key_for: K | None = None

    def __call__(self, row: Mapping[str, Any], key_for: K) -> V:
        if key_for != self._key_for:
            self._seen.clear()
            self._key_for = key_for
        items = tuple(row.items())
        try:
            found = self._seen.get(items)
        except TypeError:  # a nested list or object: not hashable, so mapped every time
            return self._convert(row, key_for)
        if found is None:
            if len(self._seen) >= self._limit:
                self._seen.clear()
            found = self._seen[items] = self._convert(row, key_for)
        return found


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while 150k acyclic objects are created: each generation-0 sweep
    otherwise rescans the growing young heap (15-20 % of the load time in bench/scrip_master.py).
    The objects made here hold no cycles, so nothing is lost by collecting later."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def today_ist() -> date:
    """Both instrument masters are published per IST trading date."""
    return datetime.now(IST).date()


def sha256_hex(secret: str) -> str:
    """What a saved session keeps of a credential: enough to tell it was made with the
    configured one, never the credential itself (secrets at rest)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def server_clock(date_header: str | None) -> tuple[datetime, float | None] | None:
    """The server's `Date` and its clock minus ours in seconds (1 s resolution: TOTP logins fail
    when this grows past a few seconds; None for a date without a zone); None when the header is
    absent or unreadable."""
    if not date_header:
        return None
    try:
        when = parsedate_to_datetime(date_header)
    except (TypeError, ValueError):
        return None
    try:
        return when, (when - datetime.now(UTC)).total_seconds()
    except TypeError:
        return when, None


def join_ref(where: str, token: str, wire_name: str) -> str:
    """`Instrument.broker_ref` for both adapters: the broker's segment/exchange, its token and
    the name orders carry, `|`-joined (the name goes last: it is the one part that could hold
    anything)."""
    return f"{where}|{token}|{wire_name}"


def split_ref(broker_ref: str) -> tuple[str, str, str] | None:
    """The three parts of a `join_ref` value, or None when it is not one (no segment or token):
    the adapter words the refusal, since only it knows whose instrument it expected."""
    parts = broker_ref.split("|", 2)
    if len(parts) != 3 or not parts[0] or not parts[1]:
        return None
    return parts[0], parts[1], parts[2]


def order_status(
    raw: str,
    states: Mapping[str, str],
    *,
    quantity: int,
    filled: int,
    broker: str,
    log: logging.Logger,
) -> OrderStatus:
    """A broker's order state (lower-cased) -> ours, through the adapter's `states` table. A state
    the table lacks is logged and read as pending (the order is still watched, never dropped);
    an open or pending order with some but not all filled is partially filled."""
    name = states.get(raw)
    if name is None:
        log.warning("%s: unknown order state %r, treated as pending", broker, raw)
        name = "PENDING"
    status = OrderStatus(name)
    if status in (OrderStatus.OPEN, OrderStatus.PENDING) and 0 < filled < quantity:
        return OrderStatus.PARTIALLY_FILLED
    return status
