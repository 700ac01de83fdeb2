"""Parse command arguments into core requests.

Transport-free on purpose: the Telegram handlers call these, and so could a CLI or a webhook, so
the grammar cannot drift between front ends. Every failure is a `UserError` carrying the usage
line, so the user sees what was wrong and how to write it.

Typed as people type on a phone: `@ 812.5`, `@₹812.5` and `@ ₹812.5` are all the price 812.5 (a
phone keyboard puts a space after `@` and offers `₹` next to it), and `2 lots`, `2L` or `1 lot`
give the quantity in lots. What is ambiguous is refused rather than guessed: a second `@` or
`sl=` (which one did the user mean?), a bare number where a price would go ("did you mean
@812.5?"), and numbers so long they cannot be an order (a 5,000-digit quantity used to fail deep
inside the parser as an internal error).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from bot.echo import clip, echo
from bot.errors import UserError
from bot.market.instruments import EXCHANGES
from bot.orders.policy import OrderTicket
from brokers.models import Instrument, OrderType, Product, Side

ORDER_USAGE = "/{side} EXCHANGE:SYMBOL QTY [@PRICE] [sl=TRIGGER] [CNC|MIS|NRML]"
MODIFY_USAGE = "/modify ORDER_ID [QTY] [@PRICE] [sl=TRIGGER]"
CANCEL_USAGE = "/cancel ORDER_ID"
QUOTE_USAGE = "/quote EXCHANGE:SYMBOL [EXCHANGE:SYMBOL ...]"
SEARCH_USAGE = "/search TEXT"
MAX_QUOTES = 10
# Far above any order a retail account sends (NIFTY's freeze is 1,800 units; a 10-crore order
# of a ₹10 share is 1 crore units), and short enough that a typo of extra digits is caught.
MAX_QUANTITY = 9_999_999
# Rupee prices: nine digits before the point covers every listed price; four after it covers
# the currency tick of 0.0025 (more is refused by the tick check anyway).
MAX_PRICE_DIGITS = 9
MAX_PRICE_DECIMALS = 4

_KEY_RE = re.compile(r"^(?P<exchange>[A-Z_]+):(?P<symbol>[A-Z0-9&._-]+)$")
_ORDER_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_QUANTITY_RE = re.compile(r"^(?P<count>\d+)(?P<lots>L|LOTS?)?$")
_LOT_WORDS = frozenset({"LOT", "LOTS"})
_NUMBER_RE = re.compile(r"^(?P<whole>\d*)(?:\.(?P<part>\d*))?$")
_RUPEE = "₹"


def parse_key(text: str, usage: str) -> str:
    """`nse:sbin` → `NSE:SBIN`; the exchange must be one we know."""
    match = _KEY_RE.match(text.strip().upper())
    if not match:
        raise UserError(
            "bad_symbol",
            f"{echo(text)} is not a symbol; write it as EXCHANGE:SYMBOL, e.g. NSE:SBIN.",
            usage=usage,
        )
    if match["exchange"] not in EXCHANGES:
        raise UserError(
            "bad_exchange",
            f"{clip(match['exchange'])} is not an exchange I know; use one of "
            f"{', '.join(EXCHANGES)}.",
            usage=usage,
        )
    return f"{match['exchange']}:{match['symbol']}"


def _too_large(text: str, what: str, most: str, usage: str) -> UserError:
    return UserError(
        "too_large",
        f"{echo(text)} is too large for a {what}; the most I take is {most}.",
        usage=usage,
    )


def _quantity(text: str, usage: str) -> int:
    if not text.isascii() or not text.isdigit() or not text.strip("0"):
        raise UserError(
            "bad_quantity", f"{echo(text)} is not a quantity; use a whole number.", usage=usage
        )
    digits = text.lstrip("0")
    if len(digits) > len(str(MAX_QUANTITY)) or int(digits) > MAX_QUANTITY:
        raise _too_large(text, "quantity", f"{MAX_QUANTITY:,}", usage)
    return int(digits)


def _number(text: str) -> re.Match[str] | None:
    """A plain decimal number (`812.5`, `.5`, `₹812`), or None: no signs, exponents, NaN or
    grouping commas, so nothing odd reaches `Decimal`."""
    text = text.removeprefix(_RUPEE)
    match = _NUMBER_RE.match(text) if text.isascii() else None
    if match is None or not (match["whole"] or match["part"]):
        return None
    return match


def _price(text: str, what: str, usage: str) -> Decimal:
    match = _number(text)
    if match is None or not (match["whole"] + (match["part"] or "")).strip("0"):
        raise UserError("bad_price", f"{echo(text)} is not a valid {what}.", usage=usage)
    whole, part = match["whole"].lstrip("0"), (match["part"] or "").rstrip("0")
    if len(whole) > MAX_PRICE_DIGITS:
        raise _too_large(text, what, f"{MAX_PRICE_DIGITS} digits before the point", usage)
    if len(part) > MAX_PRICE_DECIMALS:
        raise UserError(
            "bad_price",
            f"{echo(text)} has too many decimals for a {what}; at most {MAX_PRICE_DECIMALS}.",
            usage=usage,
        )
    return Decimal(f"{whole or 0}.{part}" if part else whole)


def parse_price(text: str, what: str, usage: str) -> Decimal:
    """A positive price (or level) as people type it, `812.5` or `₹812.5`; for other grammars
    (price alerts) that take one."""
    return _price(text, what, usage)


@dataclass(frozen=True, slots=True)
class _PriceParts:
    quantity: int | None = None
    price: Decimal | None = None
    trigger: Decimal | None = None
    product: Product | None = None


def _joined(tokens: list[str]) -> list[str]:
    """`@ 812.5` → `@812.5` and `sl= 795` → `sl=795`: a phone keyboard adds the space."""
    out: list[str] = []
    for token in tokens:
        if out and out[-1].upper().removesuffix(_RUPEE) in ("@", "SL="):
            out[-1] += token
        else:
            out.append(token)
    return out


def _price_parts(
    tokens: list[str], usage: str, *, allow_product: bool, allow_quantity: bool
) -> _PriceParts:
    quantity = price = trigger = product = None
    for token in _joined(tokens):
        upper = token.upper()
        if token.startswith("@"):
            if price is not None:
                raise _twice("price (@)", usage)
            price = _price(token[1:], "price", usage)
        elif upper.startswith("SL="):
            if trigger is not None:
                raise _twice("trigger (sl=)", usage)
            trigger = _price(token[3:], "trigger price", usage)
        elif allow_product and upper in Product.__members__:
            if product is not None:
                raise _twice("product (CNC, MIS or NRML)", usage)
            product = Product(upper)
        elif allow_quantity and quantity is None and token.isdigit():
            quantity = _quantity(token, usage)
        elif _number(token) is not None:
            raise UserError(
                "bad_argument",
                f"I don't understand {echo(token)}; did you mean @{token.removeprefix(_RUPEE)}?",
                usage=usage,
            )
        else:
            raise UserError("bad_argument", f"I don't understand {echo(token)}.", usage=usage)
    return _PriceParts(quantity, price, trigger, product)


def _twice(what: str, usage: str) -> UserError:
    return UserError("repeated_argument", f"You gave the {what} twice; give it once.", usage=usage)


@dataclass(frozen=True, slots=True)
class OrderArgs:
    """A parsed /buy or /sell. `quantity` counts lots when `in_lots`, else units; only the
    instrument knows the lot size, so `ticket` turns it into units once it is resolved."""

    side: Side
    key: str
    quantity: int
    in_lots: bool
    order_type: OrderType
    price: Decimal | None
    trigger_price: Decimal | None
    product: Product | None

    def ticket(self, instrument: Instrument) -> OrderTicket:
        """The order in units. Lots of an equity are refused rather than read as shares: a
        trader who types `2 lots` of SBIN has something else in mind than 2 shares."""
        usage = ORDER_USAGE.format(side=self.side.value.lower())
        units = self.quantity
        if self.in_lots:
            if not instrument.kind.is_derivative:
                raise UserError(
                    "lots_for_equity",
                    f"{instrument.key} trades in shares, not lots; give the number of shares, "
                    f"e.g. /{self.side.value.lower()} {instrument.key} {self.quantity}.",
                    usage=usage,
                )
            units = self.quantity * instrument.lot_size
            if units > MAX_QUANTITY:
                raise _too_large(
                    f"{self.quantity} lots", "quantity", f"{MAX_QUANTITY:,} units", usage
                )
        return OrderTicket(
            side=self.side,
            key=self.key,
            quantity=units,
            order_type=self.order_type,
            price=self.price,
            trigger_price=self.trigger_price,
            product=self.product,
        )


def _order_quantity(args: list[str], usage: str) -> tuple[int, bool, list[str]]:
    """The quantity at the front of `args` (`10`, `2L`, `2lots`, `2 lots`, `1 lot`), whether
    it is in lots, and the arguments after it."""
    match = _QUANTITY_RE.match(args[0].upper()) if args[0].isascii() else None
    if match is None:
        return _quantity(args[0], usage), False, args[1:]
    count = _quantity(match["count"], usage)
    if match["lots"]:
        return count, True, args[1:]
    if len(args) > 1 and args[1].upper() in _LOT_WORDS:
        return count, True, args[2:]
    return count, False, args[1:]


def parse_order(side: Side, args: list[str]) -> OrderArgs:
    """`/buy NSE:SBIN 10 [@812.5] [sl=800] [MIS]`: market unless a price is given; `sl=`
    makes it a stop-loss (SL with a price, SL-M without). `2 lots` or `2L` is in lots."""
    usage = ORDER_USAGE.format(side=side.value.lower())
    if len(args) < 2:
        raise UserError("missing_arguments", "I need a symbol and a quantity.", usage=usage)
    key = parse_key(args[0], usage)
    quantity, in_lots, rest = _order_quantity(args[1:], usage)
    parts = _price_parts(rest, usage, allow_product=True, allow_quantity=False)
    if parts.trigger is not None:
        order_type = OrderType.SL if parts.price is not None else OrderType.SL_M
    else:
        order_type = OrderType.LIMIT if parts.price is not None else OrderType.MARKET
    return OrderArgs(
        side=side,
        key=key,
        quantity=quantity,
        in_lots=in_lots,
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
        raise UserError("bad_order_id", f"{echo(text)} is not an order number.", usage=usage)
    return text


def parse_modify(args: list[str]) -> ModifyArgs:
    """The new quantity is in units: the order book gives units, and a modify should read the
    same way."""
    if not args:
        raise UserError("missing_arguments", "I need the order number.", usage=MODIFY_USAGE)
    order_id = parse_order_id(args[0], MODIFY_USAGE)
    rest = args[1:]
    first = _QUANTITY_RE.match(rest[0].upper()) if rest and rest[0].isascii() else None
    if first and (first["lots"] or (len(rest) > 1 and rest[1].upper() in _LOT_WORDS)):
        raise UserError(
            "lots_in_modify",
            "Give the new quantity of a modify in units, as the order book shows it.",
            usage=MODIFY_USAGE,
        )
    parts = _price_parts(rest, MODIFY_USAGE, allow_product=False, allow_quantity=True)
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
