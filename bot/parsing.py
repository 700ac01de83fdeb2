"""Parse command arguments into core requests.

Transport-free on purpose: the Telegram handlers call these, and so could a CLI or a webhook, so
the grammar cannot drift between front ends. Every failure is a `UserError` carrying the usage
line, so the user sees what was wrong and how to write it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from bot.errors import UserError
from bot.market.instruments import EXCHANGES
from bot.orders.policy import OrderTicket
from brokers.models import OrderType, Product, Side

ORDER_USAGE = "/{side} EXCHANGE:SYMBOL QTY [@PRICE] [sl=TRIGGER] [CNC|MIS|NRML]"
MODIFY_USAGE = "/modify ORDER_ID [QTY] [@PRICE] [sl=TRIGGER]"
CANCEL_USAGE = "/cancel ORDER_ID"
QUOTE_USAGE = "/quote EXCHANGE:SYMBOL [EXCHANGE:SYMBOL ...]"
SEARCH_USAGE = "/search TEXT"
MAX_QUOTES = 10

_KEY_RE = re.compile(r"^(?P<exchange>[A-Z_]+):(?P<symbol>[A-Z0-9&._-]+)$")
_ORDER_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def parse_key(text: str, usage: str) -> str:
    """`nse:sbin` → `NSE:SBIN`; the exchange must be one we know."""
    match = _KEY_RE.match(text.strip().upper())
    if not match:
        raise UserError(
            "bad_symbol",
            f"{text!r} is not a symbol; write it as EXCHANGE:SYMBOL, e.g. NSE:SBIN.",
            usage=usage,
        )
    if match["exchange"] not in EXCHANGES:
        raise UserError(
            "bad_exchange",
            f"{match['exchange']} is not an exchange I know; use one of {', '.join(EXCHANGES)}.",
            usage=usage,
        )
    return f"{match['exchange']}:{match['symbol']}"


def _quantity(text: str, usage: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise UserError(
            "bad_quantity", f"{text!r} is not a quantity; use a whole number of units.", usage=usage
        )
    return int(text)


def _price(text: str, what: str, usage: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value <= 0:
        raise UserError("bad_price", f"{text!r} is not a valid {what}.", usage=usage)
    return value


@dataclass(frozen=True, slots=True)
class _PriceParts:
    quantity: int | None = None
    price: Decimal | None = None
    trigger: Decimal | None = None
    product: Product | None = None


def _price_parts(
    tokens: list[str], usage: str, *, allow_product: bool, allow_quantity: bool
) -> _PriceParts:
    quantity = price = trigger = product = None
    for token in tokens:
        upper = token.upper()
        if token.startswith("@"):
            price = _price(token[1:], "price", usage)
        elif upper.startswith("SL="):
            trigger = _price(token[3:], "trigger price", usage)
        elif allow_product and upper in Product.__members__:
            product = Product(upper)
        elif allow_quantity and token.isdigit() and quantity is None:
            quantity = _quantity(token, usage)
        else:
            raise UserError("bad_argument", f"I don't understand {token!r}.", usage=usage)
    return _PriceParts(quantity, price, trigger, product)


def parse_order(side: Side, args: list[str]) -> OrderTicket:
    """`/buy NSE:SBIN 10 [@812.5] [sl=800] [MIS]`: market unless a price is given; `sl=`
    makes it a stop-loss (SL with a price, SL-M without)."""
    usage = ORDER_USAGE.format(side=side.value.lower())
    if len(args) < 2:
        raise UserError("missing_arguments", "I need a symbol and a quantity.", usage=usage)
    key = parse_key(args[0], usage)
    quantity = _quantity(args[1], usage)
    parts = _price_parts(args[2:], usage, allow_product=True, allow_quantity=False)
    if parts.trigger is not None:
        order_type = OrderType.SL if parts.price is not None else OrderType.SL_M
    else:
        order_type = OrderType.LIMIT if parts.price is not None else OrderType.MARKET
    return OrderTicket(
        side=side,
        key=key,
        quantity=quantity,
        order_type=order_type,
        price=parts.price,
        trigger_price=parts.trigger,
        product=parts.product,
    )


@dataclass(frozen=True, slots=True)
class ModifyArgs:
    order_id: str
    quantity: int | None
    price: Decimal | None
    trigger_price: Decimal | None


def parse_order_id(text: str, usage: str) -> str:
    if not _ORDER_ID_RE.match(text):
        raise UserError("bad_order_id", f"{text!r} is not an order number.", usage=usage)
    return text


def parse_modify(args: list[str]) -> ModifyArgs:
    if not args:
        raise UserError("missing_arguments", "I need the order number.", usage=MODIFY_USAGE)
    order_id = parse_order_id(args[0], MODIFY_USAGE)
    parts = _price_parts(args[1:], MODIFY_USAGE, allow_product=False, allow_quantity=True)
    if parts.quantity is None and parts.price is None and parts.trigger is None:
        raise UserError(
            "missing_arguments",
            "Say what to change: a new quantity, @price or sl=trigger.",
            usage=MODIFY_USAGE,
        )
    return ModifyArgs(order_id, parts.quantity, parts.price, parts.trigger)


def parse_cancel(args: list[str]) -> str:
    if len(args) != 1:
        raise UserError("missing_arguments", "I need exactly one order number.", usage=CANCEL_USAGE)
    return parse_order_id(args[0], CANCEL_USAGE)


def parse_quote(args: list[str]) -> list[str]:
    if not args:
        raise UserError("missing_arguments", "I need at least one symbol.", usage=QUOTE_USAGE)
    if len(args) > MAX_QUOTES:
        raise UserError(
            "too_many_symbols", f"At most {MAX_QUOTES} symbols at a time.", usage=QUOTE_USAGE
        )
    return [parse_key(a, QUOTE_USAGE) for a in args]


def parse_search(args: list[str]) -> str:
    text = " ".join(args).strip()
    if len(text) < 2:
        raise UserError(
            "missing_arguments",
            "Tell me what to look for, e.g. /search nifty 24000 ce.",
            usage=SEARCH_USAGE,
        )
    return text
