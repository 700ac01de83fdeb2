"""Wire <-> models: order bodies out, book/trade/position/holding/fund/quote rows back in.

Encoding (ref §4 "Value types"): every request value is a JSON string, integers as plain digits,
prices as plain decimals, zero as `"0"`. Orders carry the master row's `name`, `token` and
`exch_seg` (ref §4.2: modify sends exactly what place sent). Reading: values are strings in the
books and numbers in details, holdings and quotes (ref §4.5-§5.3); zeros and blanks mean absent;
statuses are free text in varying case (ref §4.5); the books name F&O under NSE/BSE.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from brokers.errors import BrokerRejected, InstrumentNotFound
from brokers.models import (
    Funds,
    Holding,
    Instrument,
    InstrumentKind,
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
from brokers.mstock.constants import (
    IST,
    ORDER_STATUS,
    ORDER_TYPE,
    ORDER_TYPE_BACK,
    PRODUCT,
    PRODUCT_BACK,
    SIDE_BACK,
    VARIETY_AMO,
    VARIETY_NORMAL,
    VARIETY_STOPLOSS,
)
from brokers.mstock.master import Ref, decode_ref
from brokers.wire import dec, dec0, integer, order_status, plain

log = logging.getLogger(__name__)

# (exchange, token, instrument type, shown symbol) -> our key
KeyFor = Callable[[str, str, str, str], str]
_M = TypeVar("_M")
RowMapper = Callable[[Mapping[str, Any], KeyFor], _M]
_ZERO = Decimal(0)
# Times as the API writes them: order book, order details, trade book (ref §4.5-§4.7).
_TIME_FORMATS = ("%Y-%b-%d %H:%M:%S", "%d-%m-%Y %I:%M:%S %p", "%d-%m-%Y %H:%M:%S")


def wire_number(value: Decimal | int) -> str:
    """`"0"` for zero, `"812.5"` for 812.50, never an exponent (ref §4 value types)."""
    if isinstance(value, int):
        return str(value)
    return plain(value) if value else "0"


def _text(row: Mapping[str, Any], key: str) -> str:
    value = row.get(key)
    return "" if value is None else str(value).strip()


def _when(text: str) -> datetime | None:
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=IST)
        except ValueError:
            continue
    return None


# --------------------------------------------------------------------------- orders out


def variety_for(order_type: OrderType, *, amo: bool = False) -> str:
    """An after-market order is variety AMO whatever its type (ref §4.1); otherwise SL orders
    go as STOPLOSS (ref §4.1, OpenAlgo live) and everything else NORMAL."""
    if amo:
        return VARIETY_AMO
    return VARIETY_STOPLOSS if order_type is OrderType.SL else VARIETY_NORMAL


def _order_type(order_type: OrderType) -> str:
    if order_type is OrderType.SL_M:
        raise BrokerRejected("SL-M orders are not sent to mStock; send SL with a limit price")
    return ORDER_TYPE[order_type.value]


def _terms(
    instrument: Instrument, order_type: OrderType, price: Decimal, trigger: Decimal | None
) -> tuple[Ref, str, str, str]:
    if instrument.kind is InstrumentKind.INDEX:
        raise InstrumentNotFound(f"{instrument.key} is an index: quotes only, not tradable")
    wire_price = _ZERO if order_type is OrderType.MARKET else price
    wire_trigger = trigger if order_type is OrderType.SL and trigger else _ZERO
    return (
        decode_ref(instrument),
        _order_type(order_type),
        wire_number(wire_price),
        wire_number(wire_trigger),
    )


def place_body(request: OrderRequest, tag: str) -> dict[str, str]:
    """The 16 keys of `POST orders/regular`, in the docs' order, all strings (ref §4.1)."""
    ref, order_type, price, trigger = _terms(
        request.instrument, request.order_type, request.price, request.trigger_price
    )
    return {
        "variety": variety_for(request.order_type, amo=request.amo),
        "tradingsymbol": ref.name,
        "symboltoken": ref.token,
        "exchange": ref.exchange,
        "transactiontype": request.side.value,
        "ordertype": order_type,
        "quantity": str(request.quantity),
        "producttype": PRODUCT[request.product.value],
        "price": price,
        "triggerprice": trigger,
        "squareoff": "0",
        "stoploss": "0",
        "trailingStopLoss": "",
        "disclosedquantity": "0",
        "duration": request.validity.value,
        "ordertag": tag,
    }


def modify_body(request: ModifyRequest, variety: str) -> dict[str, str]:
    """`PUT orders/regular/{id}`: the docs' key set, as OpenAlgo sends it live (ref §4.2)."""
    ref, order_type, price, trigger = _terms(
        request.instrument, request.order_type, request.price, request.trigger_price
    )
    return {
        "variety": variety,
        "tradingsymbol": ref.name,
        "symboltoken": ref.token,
        "exchange": ref.exchange,
        "transactiontype": request.side.value,
        "orderid": request.order_id,
        "ordertype": order_type,
        "quantity": str(request.quantity),
        "producttype": PRODUCT[request.product.value],
        "duration": request.validity.value,
        "price": price,
        "triggerprice": trigger,
        "disclosedquantity": "",
        "modqty_remng": "0",
    }


def cancel_body(order_id: str, variety: str) -> dict[str, str]:
    """`DELETE orders/regular/{id}` with a JSON body (ref §4.3)."""
    return {"variety": variety, "orderid": order_id}


def margin_body(request: OrderRequest) -> dict[str, list[dict[str, str]]]:
    """`POST margins/orders`: snake_case keys, one order, strings (ref §5.5)."""
    inst = request.instrument
    ref, _, price, trigger = _terms(inst, request.order_type, request.price, request.trigger_price)
    return {
        "orders": [
            {
                "product_type": PRODUCT[request.product.value],
                "transaction_type": request.side.value,
                "quantity": str(request.quantity),
                "price": price,
                "exchange": ref.exchange,
                "symbol_name": inst.underlying or inst.symbol,
                "token": ref.token,
                "trigger_price": trigger,
            }
        ]
    }


def margin_required(data: Any) -> Decimal:
    """`data.summary.total_charges`, the order's total margin (ref §5.5, as OpenAlgo reads it)."""
    summary = data.get("summary") if isinstance(data, Mapping) else None
    return dec0(summary.get("total_charges")) if isinstance(summary, Mapping) else _ZERO


def order_id_of(data: Any) -> str:
    """`data.orderid` (or cancel-all's `order_id`), without the leading space modify adds."""
    if not isinstance(data, Mapping):
        return ""
    return str(data.get("orderid") or data.get("order_id") or "").strip()


# --------------------------------------------------------------------------- rows in


def _side(raw: str) -> Side:
    return Side(SIDE_BACK.get(raw.upper(), "BUY"))


def _product(raw: str) -> Product:
    return Product(PRODUCT_BACK.get(raw.upper(), "NRML"))


def _status(row: Mapping[str, Any], quantity: int, filled: int) -> OrderStatus:
    raw = (_text(row, "status") or _text(row, "orderstatus")).lower()
    return order_status(
        raw, ORDER_STATUS, quantity=quantity, filled=filled, broker="mstock", log=log
    )


def _row_key(row: Mapping[str, Any], key_for: KeyFor) -> str:
    return key_for(
        _text(row, "exchange"),
        _text(row, "symboltoken"),
        _text(row, "instrumenttype"),
        _text(row, "tradingsymbol") or _text(row, "symbolname"),
    )


def order_from_row(row: Mapping[str, Any], key_for: KeyFor, tag: str = "") -> Order:
    """Order-book or order-details row -> Order (ref §4.5, §4.6). `tag` is ours: the book does
    not carry it; details do (`ordertag`)."""
    quantity = integer(row.get("quantity"))
    filled = integer(row.get("filledshares"))
    text = _text(row, "text")
    return Order(
        order_id=_text(row, "orderid"),
        key=_row_key(row, key_for),
        side=_side(_text(row, "transactiontype")),
        quantity=quantity,
        order_type=OrderType(ORDER_TYPE_BACK.get(_text(row, "ordertype").upper(), "LIMIT")),
        product=_product(_text(row, "producttype")),
        status=_status(row, quantity, filled),
        price=dec0(row.get("price")),
        trigger_price=dec(row.get("triggerprice")),
        filled_quantity=filled,
        average_price=dec(row.get("averageprice")),
        tag=tag or _text(row, "ordertag"),
        message="" if text.upper() in ("", "CONFIRMED", "NA", "--") else text,
        updated_at=_when(_text(row, "updatetime")),
    )


def trade_from_row(row: Mapping[str, Any], key_for: KeyFor) -> Trade:
    """Trade-book row, UPPERCASE keys (ref §4.7); `SEC_ID` is the token, `PRODUCT` says CNC."""
    return Trade(
        trade_id=_text(row, "TRADE_NUMBER"),
        order_id=_text(row, "ORDER_NUMBER"),
        key=key_for(
            _text(row, "EXCHANGE"),
            _text(row, "SEC_ID"),
            _text(row, "INSTRUMENT_NAME"),
            _text(row, "FULL_SYMBOL") or _text(row, "SYMBOL"),
        ),
        side=_side(_text(row, "BUY_SELL")),
        quantity=integer(row.get("QUANTITY")),
        price=dec0(row.get("PRICE")),
        product=_product(_text(row, "PRODUCT")),
        at=_when(_text(row, "ORDER_DATE_TIME")),
    )


def position_from_row(row: Mapping[str, Any], key_for: KeyFor) -> Position:
    """Positions row (ref §5.1): `netqty` signed, averages per side, no LTP."""
    net = integer(row.get("netqty"))
    buy_avg, sell_avg = dec0(row.get("buyavgprice")), dec0(row.get("sellavgprice"))
    multiplier = dec(row.get("multiplier")) or Decimal(1)
    closed = min(integer(row.get("buyqty")), integer(row.get("sellqty")))
    realized = (sell_avg - buy_avg) * closed * multiplier if closed else _ZERO
    average = buy_avg if net > 0 else sell_avg if net < 0 else _ZERO
    return Position(
        key=_row_key(row, key_for),
        product=_product(_text(row, "producttype")),
        quantity=net,
        average_price=average.quantize(Decimal("0.0001")),
        ltp=None,
        realized_pnl=realized.quantize(Decimal("0.01")),
    )


def holding_from_row(row: Mapping[str, Any], key_for: KeyFor) -> Holding:
    """Holdings row (ref §5.3): `tradingsymbol` is the company name, `exchange` null, so the
    token finds the key."""
    return Holding(
        key=key_for(
            _text(row, "exchange") or "NSE",
            _text(row, "symboltoken"),
            "EQ",
            _text(row, "tradingsymbol"),
        ),
        quantity=integer(row.get("quantity")),
        average_price=dec0(row.get("averageprice")),
        ltp=dec(row.get("ltp")),
    )


_FUNDS_EXTRA = (
    "COLLATERALS",
    "LIMIT_SOD",
    "REALISED_PROFITS",
    "MTM_COMBINED",
    "PAY_OUT_AMT",
    "SUM_OF_ALL",
)


def funds_from_rows(data: Any) -> Funds:
    """`data` is a list with one object of strings (ref §5.4): AVAILABLE_BALANCE is the cash
    (OpenAlgo's mapping), AMOUNT_UTILIZED the margin used."""
    row = data[0] if isinstance(data, list) and data and isinstance(data[0], Mapping) else data
    if not isinstance(row, Mapping):
        row = {}
    available = dec0(row.get("AVAILABLE_BALANCE"))
    used = dec0(row.get("AMOUNT_UTILIZED"))
    extra = {k: dec0(row.get(k)) for k in _FUNDS_EXTRA if row.get(k) not in (None, "")}
    return Funds(available=available, used_margin=used, total=available + used, extra=extra)


def quote_from_row(key: str, row: Mapping[str, Any], at: datetime) -> Quote:
    """A `fetched` quote element (ref §6.1). A zero, null or missing LTP is None, never a
    price. The REST quote carries no time: `at` is when the reply was served."""
    ltp = dec(row.get("ltp"))
    return Quote(
        key=key,
        ltp=ltp,
        at=at,
        open=dec(row.get("open")),
        high=dec(row.get("high")),
        low=dec(row.get("low")),
        close=dec(row.get("close")),
    )
