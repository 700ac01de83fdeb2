"""Wire <-> models: jData for orders, and book/position/holding/limit/quote rows back to models.

Encoding rules (ref §3): every jData value is a JSON string, zero is `"0"` (Kotak rejects `"0.0"`,
[OA]), prices are plain decimal strings with no exponent; `ig` carries our tag (ref §4.1) and comes
back as `GuiOrdId` in the books. Reading rules: values are mostly strings but some are JSON ints
(ref §5), zeros and blanks mean "absent", and `ordSt` is lower-case free text (ref §5.1).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from brokers.errors import BrokerRejected, InstrumentNotFound
from brokers.kotak.constants import (
    AMO_NO,
    AMO_YES,
    IST,
    MARGIN_BRACKET_KEYS,
    MARGIN_BRANCH_ID,
    MARGIN_BROKER_NAME,
    ORDER_SOURCE,
    ORDER_STATUS,
    PRICE_TYPE,
    PRICE_TYPE_BACK,
    PRODUCT_BACK,
    RMS_VALIDATED,
    SIDE,
    SIDE_BACK,
)
from brokers.kotak.master import Ref, decode_ref, plain
from brokers.models import (
    Funds,
    Holding,
    Instrument,
    InstrumentKind,
    MarginCheck,
    ModifyRequest,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Product,
    Quote,
    Side,
    Trade,
)
from brokers.wire import dec, dec0, integer, order_status

log = logging.getLogger(__name__)

KeyFor = Callable[[str, str, str], str]  # (segment, token, trading symbol) -> our key
_M = TypeVar("_M")
RowMapper = Callable[[Mapping[str, Any], KeyFor], _M]  # a report row -> one model

_ZERO = Decimal(0)


# --------------------------------------------------------------------------- values


def wire_number(value: Decimal | int) -> str:
    """`"0"` for zero, `"812.5"` for 812.50, never an exponent (ref §3 number formatting)."""
    if isinstance(value, int):
        return str(value)
    return plain(value) if value else "0"


def jdata(fields: Mapping[str, str | None]) -> dict[str, str]:
    """The single form field every order-side POST carries (ref §3 style 2)."""
    return {"jData": json.dumps(fields, separators=(",", ":"))}


def _text(row: Mapping[str, Any], key: str) -> str:
    value = row.get(key)
    return "" if value is None else str(value).strip()


def _ist(text: str, fmt: str) -> datetime | None:
    try:
        return datetime.strptime(text, fmt).replace(tzinfo=IST)
    except ValueError:
        return None


# --------------------------------------------------------------------------- orders out


def _price_type(order_type: OrderType) -> str:
    if order_type is OrderType.SL_M:
        # ref §11: "SL-M from an API session is rejected" ([OA] live 2026-07-28); the order
        # policy must send SL with a protected limit instead.
        raise BrokerRejected("Kotak refuses SL-M orders from API sessions; send SL with a limit")
    return PRICE_TYPE[order_type.value]


def _order_terms(request: OrderRequest) -> tuple[Ref, str, Decimal, Decimal | None]:
    """What place and check-margin both send: the instrument reference, the wire price type, the
    price (0 for a market order) and the trigger (SL only). Indices are refused here."""
    instrument = request.instrument
    if instrument.kind is InstrumentKind.INDEX:
        raise InstrumentNotFound(f"{instrument.key} is an index: quotes only, not tradable")
    price = _ZERO if request.order_type is OrderType.MARKET else request.price
    trigger = request.trigger_price if request.order_type is OrderType.SL else None
    return decode_ref(instrument), _price_type(request.order_type), price, trigger


def place_fields(request: OrderRequest) -> dict[str, str | None]:
    """jData for `/quick/order/rule/ms/place`, keys in the SDK's order (ref §4.1)."""
    ref, price_type, price, trigger = _order_terms(request)
    return {
        "am": _amo(request.amo),
        "dq": "0",
        "es": ref.segment,
        "mp": "0",
        "pc": request.product.value,
        "pr": wire_number(price),
        "pt": price_type,
        "qt": str(request.quantity),
        "rt": request.validity.value,
        "tp": wire_number(trigger or _ZERO),
        "ts": ref.trading_symbol,
        "tt": SIDE[request.side.value],
        "ig": request.tag or None,
        "os": ORDER_SOURCE,
    }


def _amo(amo: bool) -> str:
    return AMO_YES if amo else AMO_NO


def modify_fields(request: ModifyRequest, *, amo: bool = False) -> dict[str, str | None]:
    """jData for `/quick/order/vr/modify`: exactly the SDK 3.0.9 keys (ref §4.2). Validity is
    `vd` here, not `rt`; the order number is `no`; `amo` for an after-market order."""
    price_type = _price_type(request.order_type)
    price = _ZERO if request.order_type is OrderType.MARKET else request.price
    trigger = request.trigger_price if request.order_type is OrderType.SL else None
    return {
        "mp": "0",
        "dq": "0",
        "vd": request.validity.value,
        "pr": wire_number(price),
        "pt": price_type,
        "am": _amo(amo),
        "tp": wire_number(trigger or _ZERO),
        "qt": str(request.quantity),
        "no": request.order_id,
        "os": ORDER_SOURCE,
    }


def cancel_fields(order_id: str, *, amo: bool = False) -> dict[str, str | None]:
    """jData for `/quick/order/cancel`: the key is `on` here (ref §4.3); `am` is "YES" when
    cancelling an after-market order."""
    return {"on": order_id, "am": _amo(amo)}


def margin_fields(request: OrderRequest) -> dict[str, str | None]:
    """jData for `/quick/user/check-margin`: the SDK 3.0.9 keys in its order (ref §6.4 table).

    Every value is a string except `trgPrc`, which is null unless the order has a trigger (SL),
    and the six bracket-order keys, which the SDK always sends as null. We send them as the SDK
    does; OpenAlgo omits them and works live, so the server does not need them either way.
    Price, product, side and segment are encoded exactly as on place (`es` -> `exSeg`, ...).
    """
    ref, price_type, price, trigger = _order_terms(request)
    fields: dict[str, str | None] = {
        "exSeg": ref.segment,
        "prc": wire_number(price),
        "prcTp": price_type,
        "prod": request.product.value,
        "qty": str(request.quantity),
        "tok": ref.token,
        "trnsTp": SIDE[request.side.value],
        "trgPrc": wire_number(trigger) if trigger else None,
        "brkName": MARGIN_BROKER_NAME,
        "brnchId": MARGIN_BRANCH_ID,
    }
    fields.update(dict.fromkeys(MARGIN_BRACKET_KEYS))
    return fields


def margin_from_reply(body: Mapping[str, Any]) -> MarginCheck:
    """Flat check-margin reply (ref §6.4; no `data` wrapper on the wire) -> MarginCheck.

    - required: `reqdMrgn`, or `ordMrgn` when that is zero or absent. The ref §6.4 sample passes
      an order with `reqdMrgn "0.000000"` and `ordMrgn "15.500000"`, so `ordMrgn` carries the
      order's margin there; the two agree when both are set.
    - available: `avlMrgn`, or `avlCash` when that is zero or absent (same sample: `avlMrgn` 0,
      `avlCash "38.190000"`).
    - ok: `rmsVldtd == "OK"` (case-insensitive) and `insufFund == 0`. Both must hold: the RMS
      verdict is the broker's own decision, and `insufFund` is the shortfall in rupees. A
      missing or non-"OK" `rmsVldtd` (an older SDK sample shows the number 78 on a shortfall)
      is "not ok": never report a pass the broker did not state.
    """
    required = dec(body.get("reqdMrgn")) or dec0(body.get("ordMrgn"))
    available = dec(body.get("avlMrgn")) or dec0(body.get("avlCash"))
    verdict = _text(body, "rmsVldtd").upper()
    shortfall = dec(body.get("insufFund"))
    ok = verdict == RMS_VALIDATED and shortfall is None
    return MarginCheck(required=required, available=available, ok=ok)


# --------------------------------------------------------------------------- rows in


def _side(row: Mapping[str, Any]) -> Side:
    return Side(SIDE_BACK.get(_text(row, "trnsTp").upper(), "BUY"))


def _product(row: Mapping[str, Any]) -> Product:
    return Product(PRODUCT_BACK.get(_text(row, "prod").upper(), "NRML"))


def _status(row: Mapping[str, Any], quantity: int, filled: int) -> OrderStatus:
    raw = _text(row, "ordSt").lower()
    return order_status(
        raw, ORDER_STATUS, quantity=quantity, filled=filled, broker="kotak", log=log
    )


def order_from_row(row: Mapping[str, Any], key_for: KeyFor) -> Order:
    """Order-book (and history) row -> Order (keys from ref §5)."""
    quantity = integer(row.get("qty"))
    filled = integer(row.get("fldQty"))
    reason = _text(row, "rejRsn")
    return Order(
        order_id=_text(row, "nOrdNo"),
        key=key_for(_text(row, "exSeg"), _text(row, "tok"), _text(row, "trdSym")),
        side=_side(row),
        quantity=quantity,
        order_type=OrderType(PRICE_TYPE_BACK.get(_text(row, "prcTp").upper(), "LIMIT")),
        product=_product(row),
        status=_status(row, quantity, filled),
        price=dec0(row.get("prc")),
        trigger_price=dec(row.get("trgPrc")),
        filled_quantity=filled,
        average_price=dec(row.get("avgPrc")),
        tag=_text(row, "GuiOrdId"),
        message="" if reason in ("", "--", "NA") else reason,
        updated_at=_ist(_text(row, "hsUpTm"), "%Y/%m/%d %H:%M:%S"),
    )


def trade_from_row(row: Mapping[str, Any], key_for: KeyFor) -> Trade:
    """Trade-book row -> Trade. `tok` is empty here (ref §5, [OA]), so `trdSym` finds the key."""
    return Trade(
        trade_id=_text(row, "flId"),
        order_id=_text(row, "nOrdNo"),
        key=key_for(_text(row, "exSeg"), _text(row, "tok"), _text(row, "trdSym")),
        side=_side(row),
        quantity=integer(row.get("fldQty")),
        price=dec0(row.get("avgPrc")),
        product=_product(row),
        at=_ist(f"{_text(row, 'flDt')} {_text(row, 'flTm')}", "%d-%b-%Y %H:%M:%S"),
    )


def _ratio(row: Mapping[str, Any]) -> Decimal:
    """multiplier x genNum/genDen x prcNum/prcDen (ref §6.1); 1 when absent."""
    value = dec(row.get("multiplier")) or Decimal(1)
    for num, den in (("genNum", "genDen"), ("prcNum", "prcDen")):
        n, d = dec(row.get(num)), dec(row.get(den))
        if n is not None and d is not None:
            value = value * n / d
    return value


def position_from_row(row: Mapping[str, Any], key_for: KeyFor) -> Position:
    """Net qty, averages and P&L as ref §6.1 computes them (quantities in units)."""
    buy_qty = integer(row.get("cfBuyQty")) + integer(row.get("flBuyQty"))
    sell_qty = integer(row.get("cfSellQty")) + integer(row.get("flSellQty"))
    buy_amt = dec0(row.get("cfBuyAmt")) + dec0(row.get("buyAmt"))
    sell_amt = dec0(row.get("cfSellAmt")) + dec0(row.get("sellAmt"))
    ratio = _ratio(row)
    avg_buy = buy_amt / (buy_qty * ratio) if buy_qty else _ZERO
    avg_sell = sell_amt / (sell_qty * ratio) if sell_qty else _ZERO
    net = buy_qty - sell_qty
    ltp = dec(row.get("ltp"))
    average = avg_buy if net > 0 else avg_sell if net < 0 else _ZERO
    closed = min(buy_qty, sell_qty)
    realized = (avg_sell - avg_buy) * closed * ratio if closed else _ZERO
    unrealized = (ltp - average) * net * ratio if ltp is not None and net else _ZERO
    return Position(
        key=key_for(_text(row, "exSeg"), _text(row, "tok"), _text(row, "trdSym")),
        product=_product(row),
        quantity=net,
        average_price=average.quantize(Decimal("0.0001")),
        ltp=ltp,
        realized_pnl=realized.quantize(Decimal("0.01")),
        unrealized_pnl=unrealized.quantize(Decimal("0.01")),
    )


def holding_from_row(row: Mapping[str, Any], key_for: KeyFor) -> Holding:
    """Holdings row (ref §6.2). `closingPrice` is the only price field; used as the LTP."""
    return Holding(
        key=key_for(
            _text(row, "exchangeSegment").lower(),
            _text(row, "exchangeIdentifier"),
            _text(row, "symbol") or _text(row, "displaySymbol"),
        ),
        quantity=integer(row.get("quantity")),
        average_price=dec0(row.get("averagePrice")),
        ltp=dec(row.get("closingPrice")),
    )


_FUNDS_EXTRA = (
    "Net",
    "NotionalCash",
    "AdhocMargin",
    "CollateralValue",
    "Collateral",
    "RmsPayInAmt",
    "RmsPayOutAmt",
    "UnrealizedMtomPrsnt",
    "RealizedMtomPrsnt",
)


def funds_from_limits(body: Mapping[str, Any]) -> Funds:
    """Flat limits reply (ref §6.3). Available cash as OpenAlgo computes it live:
    CollateralValue + RmsPayInAmt - RmsPayOutAmt + Collateral; utilised = MarginUsed."""
    available = (
        dec0(body.get("CollateralValue"))
        + dec0(body.get("RmsPayInAmt"))
        - dec0(body.get("RmsPayOutAmt"))
        + dec0(body.get("Collateral"))
    )
    used = dec0(body.get("MarginUsed"))
    extra = {k: dec0(body.get(k)) for k in _FUNDS_EXTRA if body.get(k) not in (None, "")}
    return Funds(available=available, used_margin=used, total=available + used, extra=extra)


def _depth_price(depth: Any, side: str) -> Decimal | None:
    if not isinstance(depth, Mapping):
        return None
    levels = depth.get(side)
    if isinstance(levels, list) and levels and isinstance(levels[0], Mapping):
        return dec(levels[0].get("price"))
    return None


def quote_from_row(key: str, row: Mapping[str, Any]) -> Quote:
    """Quote element (ref §7.1). Zero, blank or null LTP means "not traded": None, never 0.
    Circuit limits from `low_price_range`/`high_price_range` (rules.md §3.3)."""
    raw_ohlc = row.get("ohlc")
    ohlc: Mapping[str, Any] = raw_ohlc if isinstance(raw_ohlc, Mapping) else {}
    stamp = integer(row.get("lstup_time"))
    volume = row.get("last_volume")
    return Quote(
        key=key,
        ltp=dec(row.get("ltp")),
        at=datetime.fromtimestamp(stamp, UTC) if stamp > 0 else None,
        bid=_depth_price(row.get("depth"), "buy"),
        ask=_depth_price(row.get("depth"), "sell"),
        open=dec(ohlc.get("open")),
        high=dec(ohlc.get("high")),
        low=dec(ohlc.get("low")),
        close=dec(ohlc.get("close")),
        volume=integer(volume) if volume not in (None, "") else None,
        upper_circuit=dec(row.get("high_price_range")),
        lower_circuit=dec(row.get("low_price_range")),
    )


def quote_path_entry(instrument: Instrument) -> tuple[str, str]:
    """(segment, token-or-index-name) for the quotes path; indices go by name (ref §7.1)."""
    ref = decode_ref(instrument)
    return ref.segment, ref.token
