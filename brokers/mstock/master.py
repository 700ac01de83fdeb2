"""mStock's instrument master: parse the JSON list, map it to our symbols both ways.

The master is a bare JSON array of objects with string values (ref §6.4): `token`, `symbol`
(the underlying), `name` (the trading symbol orders carry, `SBIN-EQ`, `SENSEX25O2382700CE`),
`expiry` (`23Oct2025`, empty for cash), `strike` and `tick_size` in **rupees** (not paise),
`lotsize`, `instrumenttype` (`EQ`, `OPTIDX`, `FUTSTK`, …) and `exch_seg` (`NSE`, `BSE`, `NFO`,
`BFO`; currency contracts carry `NSE`/`BSE` with a `*CUR`/`*IRC` type).

Our symbols are OpenAlgo style (rules.md §3.6): cash `NSE:SBIN` from the `-EQ` row (other
series keep their suffix, `NSE:ZEEL-BE`); F&O `<symbol><DDMONYY><strike><CE|PE>` or `…FUT`,
with the date and strike taken from `expiry` and `strike`, never parsed out of `name` (BSE
weeklies code the month). CE/PE is the last two letters of `name`: the master has no option
type key. The wire names travel in `Instrument.broker_ref` as `exch_seg|token|name`.

The master carries no freeze quantity (rules.md §3.4, UNCONFIRMED): a `freeze_qty` key is read
if one ever appears, else the configured table by underlying (`MSTOCK_FREEZE_QTY`).
NSE index spot tokens are not in the master (ref §6.4): they come from a fixed table.
"""

from __future__ import annotations

import difflib
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from brokers.errors import BrokerUnavailable, InstrumentNotFound
from brokers.models import Instrument, InstrumentKind
from brokers.mstock.constants import DERIVATIVE_TYPES
from brokers.wire import plain

log = logging.getLogger(__name__)

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_INDEX_TYPES = frozenset({"INDEX", "AMXIDX", "IDX"})
_KINDS = {"CE": InstrumentKind.CALL, "PE": InstrumentKind.PUT}

# NSE index spot tokens, reported from mStock's Annexure page (Angel-compatible numbering,
# ref §6.4 [OA][3P]): our symbol -> token.
NSE_INDEX_TOKENS: dict[str, str] = {
    "NIFTY": "26000",
    "BANKNIFTY": "26009",
    "FINNIFTY": "26037",
    "MIDCPNIFTY": "26074",
}


@dataclass(frozen=True, slots=True)
class Ref:
    """What an order or quote needs: the master's `exch_seg`, `token` and `name`."""

    exchange: str
    token: str
    name: str


def encode_ref(exchange: str, token: str, name: str) -> str:
    return f"{exchange}|{token}|{name}"


def decode_ref(instrument: Instrument) -> Ref:
    parts = instrument.broker_ref.split("|", 2)
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise InstrumentNotFound(f"{instrument.key} is not an mStock instrument")
    return Ref(parts[0], parts[1], parts[2])


def our_exchange(exch_seg: str, instrument_type: str) -> str:
    """The master's `exch_seg` -> our exchange. Currency contracts say NSE/BSE (ref §6.4)."""
    seg = exch_seg.strip().upper()
    kind = instrument_type.strip().upper()
    if kind.endswith(("CUR", "IRC")):
        return {"NSE": "CDS", "BSE": "BCD"}.get(seg, seg)
    if kind in DERIVATIVE_TYPES:
        return {"NSE": "NFO", "BSE": "BFO"}.get(seg, seg)
    return seg


def _expiry(raw: str) -> tuple[date, str] | None:
    try:
        when = datetime.strptime(raw.strip(), "%d%b%Y").date()
    except ValueError:
        return None
    return when, f"{when.day:02d}{_MONTHS[when.month - 1]}{when.year % 100:02d}"


def _positive(raw: Any) -> Decimal | None:
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        return None
    return value.normalize() if value.is_finite() and value > 0 else None


def _int(raw: Any) -> int | None:
    value = _positive(raw)
    return int(value) if value is not None and value == int(value) else None


class MStockMaster:
    """The day's instruments with the lookups the adapter needs: by our key, and by
    (our exchange, token) for book and position rows."""

    def __init__(self, day: date | None) -> None:
        self.day = day
        self.instruments: list[Instrument] = []
        self.by_key: dict[str, Instrument] = {}
        self.by_token: dict[str, Instrument] = {}

    def add(self, inst: Instrument, token: str) -> None:
        """Index one instrument; the first one wins for a key or token."""
        if inst.key in self.by_key:
            return
        self.instruments.append(inst)
        self.by_key[inst.key] = inst
        self.by_token.setdefault(f"{inst.exchange}|{token}", inst)

    def __len__(self) -> int:
        return len(self.instruments)

    def get(self, key: str) -> Instrument | None:
        return self.by_key.get(key) or self.by_key.get(key.strip().upper())

    def resolve(self, key: str) -> Instrument:
        """Our symbol -> instrument; an unknown symbol is refused with the closest matches."""
        found = self.get(key)
        if found is not None:
            return found
        wanted = key.strip().upper()
        exchange, _, symbol = wanted.partition(":")
        pool = [k for k in self.by_key if k.startswith(f"{exchange}:{symbol[:4]}")]
        close = difflib.get_close_matches(wanted, pool, n=3, cutoff=0.6)
        hint = f"; closest: {', '.join(close)}" if close else ""
        raise InstrumentNotFound(f"unknown symbol {key}{hint}")

    def key_for(self, exchange: str, token: str, instrument_type: str = "", shown: str = "") -> str:
        """A book row -> our key. Books name F&O under NSE/BSE (ref §4, §5.1), so the row's
        instrument type picks the exchange; a contract not in the master keeps the row's own
        spelling (`NFO:NIFTY-28Nov2024-24000-CE`)."""
        ours = our_exchange(exchange, instrument_type)
        inst = self.by_token.get(f"{ours}|{token}")
        if inst is None and not instrument_type:
            for other in ("NFO", "BFO", "CDS") if ours in ("NSE", "BSE") else ():
                inst = self.by_token.get(f"{other}|{token}")
                if inst is not None:
                    break
        if inst is not None:
            return inst.key
        return f"{ours}:{shown or token}"


def index_instruments() -> list[tuple[Instrument, str]]:
    return [
        (
            Instrument(
                exchange="NSE_INDEX",
                symbol=symbol,
                name=symbol,
                kind=InstrumentKind.INDEX,
                tick_size=Decimal("0.05"),
                broker_ref=encode_ref("NSE", token, symbol),
            ),
            token,
        )
        for symbol, token in NSE_INDEX_TOKENS.items()
    ]


def parse_master(
    rows: Iterable[Any], day: date | None, freeze_qty: Mapping[str, int] | None = None
) -> MStockMaster:
    """The master's objects -> an indexed `MStockMaster`, skipping junk and duplicate symbols.
    CPU-heavy on a full list: call it through `asyncio.to_thread`."""
    master = MStockMaster(day)
    for inst, token in index_instruments():
        master.add(inst, token)
    freezes = freeze_qty or {}
    expiries: dict[str, tuple[date, str] | None] = {}
    ticks: dict[str, Decimal | None] = {}
    strikes: dict[str, Decimal | None] = {}
    cash_rows: list[tuple[str, Instrument, str]] = []  # (series, instrument, token)
    for row in rows:
        if not isinstance(row, dict):
            continue
        token = str(row.get("token") or "").strip()
        name = str(row.get("name") or "").strip()
        underlying = str(row.get("symbol") or "").strip().upper()
        if not token or not name:
            continue
        itype = str(row.get("instrumenttype") or "").strip().upper()
        seg = str(row.get("exch_seg") or "").strip().upper()
        exchange = our_exchange(seg, itype)
        raw_tick = str(row.get("tick_size") or "")
        tick = (
            ticks.get(raw_tick)
            if raw_tick in ticks
            else ticks.setdefault(raw_tick, _positive(raw_tick))
        )
        if itype in _INDEX_TYPES:
            index = "NSE_INDEX" if seg == "NSE" else "BSE_INDEX"
            inst = Instrument(
                index,
                underlying or name,
                name,
                InstrumentKind.INDEX,
                tick or Decimal("0.05"),
                broker_ref=encode_ref(seg, token, name),
            )
            master.add(inst, token)
            continue
        if tick is None:
            continue
        lot = _int(row.get("lotsize")) or 1
        ref = encode_ref(seg, token, name)
        if itype in DERIVATIVE_TYPES:
            raw_expiry = str(row.get("expiry") or "")
            stamped = (
                expiries.get(raw_expiry)
                if raw_expiry in expiries
                else expiries.setdefault(raw_expiry, _expiry(raw_expiry))
            )
            if stamped is None or not underlying:
                continue
            freeze = _int(row.get("freeze_qty")) or freezes.get(underlying)
            if itype.startswith("OPT"):
                kind = _KINDS.get(name[-2:].upper())
                raw_strike = str(row.get("strike") or "")
                strike = (
                    strikes.get(raw_strike)
                    if raw_strike in strikes
                    else strikes.setdefault(raw_strike, _positive(raw_strike))
                )
                if kind is None or strike is None:
                    continue
                symbol = f"{underlying}{stamped[1]}{plain(strike)}{kind.value}"
            else:
                kind, strike = InstrumentKind.FUTURE, None
                symbol = f"{underlying}{stamped[1]}FUT"
            master.add(
                Instrument(
                    exchange,
                    symbol,
                    underlying,
                    kind,
                    tick,
                    lot,
                    freeze,
                    stamped[0],
                    strike,
                    underlying,
                    ref,
                ),
                token,
            )
            continue
        symbol = underlying or name.rpartition("-")[0] or name
        upper = name.upper()
        series = upper[len(symbol) + 1 :] if upper.startswith(symbol + "-") else ""
        if upper != symbol and not series:
            series = upper.rpartition("-")[2] if "-" in upper else ""
        inst = Instrument(
            exchange, symbol, name, InstrumentKind.EQUITY, tick, lot, None, None, None, None, ref
        )
        cash_rows.append((series, inst, token))
    # Cash: `EXCH:SYMBOL` is the EQ series (preferred when several exist, ref §6.4 [OA]); other
    # series keep their suffix (`NSE:ZEEL-BE`), so no two rows share a key.
    for series, inst, token in sorted(cash_rows, key=lambda item: item[0] not in ("EQ", "")):
        if series in ("EQ", ""):
            master.add(inst, token)
        else:
            master.add(_with_symbol(inst, f"{inst.symbol}-{series}"), token)
    return master


def _with_symbol(inst: Instrument, symbol: str) -> Instrument:
    return Instrument(
        inst.exchange,
        symbol,
        inst.name,
        inst.kind,
        inst.tick_size,
        inst.lot_size,
        inst.freeze_qty,
        inst.expiry,
        inst.strike,
        inst.underlying,
        inst.broker_ref,
    )


def parse_master_bytes(
    content: bytes, day: date | None, freeze_qty: Mapping[str, int] | None = None
) -> MStockMaster:
    """The downloaded file -> master. A body that is not a JSON array is an outage."""
    try:
        rows = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        raise BrokerUnavailable("mStock instrument master: the file is not JSON") from None
    if not isinstance(rows, list):
        raise BrokerUnavailable("mStock instrument master: expected a JSON array")
    master = parse_master(rows, day, freeze_qty)
    log.info("mstock instrument master: %d instruments", len(master))
    return master
