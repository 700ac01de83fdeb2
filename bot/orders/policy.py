"""The order policy: what the user asked for → exactly what will be sent, or a plain refusal.

Everything an exchange or broker would reject is refused here, before the confirmation card, so the
user reads one clear sentence instead of a broker code after tapping Confirm (rules.md §6.5–6.7):
no MARKET or SL-M ever leaves (they become protected LIMIT / SL orders), prices are positive and on
the tick, inside the day's circuit band when the quote gives one and inside the exchange's F&O
limit price protection range (`bot.orders.lpp`), a stop-loss's trigger is on the
side of the LTP where it protects, and quantities are whole lots and sliced below the freeze
quantity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from bot.errors import UserError
from bot.market.freshness import stale_age
from bot.orders.lpp import DEFAULT_LPP, LppBands, check_lpp, lpp_range, unchecked
from bot.orders.protection import (
    DEFAULT_GRID,
    ProtectedPrice,
    ProtectionGrid,
    check_tick,
    format_price,
    protect,
    protect_stop,
)
from bot.orders.quantity import check_lots, slice_quantity
from brokers.models import Instrument, InstrumentKind, OrderType, Product, Quote, Side


@dataclass(frozen=True, slots=True)
class OrderTicket:
    """What the user typed, parsed (a handler or the CLI builds it); nothing is checked yet."""

    side: Side
    key: str  # "NSE:SBIN"
    quantity: int  # units
    order_type: OrderType  # MARKET, LIMIT, SL, SL-M
    price: Decimal | None = None  # LIMIT / SL limit
    trigger_price: Decimal | None = None  # SL / SL-M
    product: Product | None = None  # None → CNC for equity, NRML for derivatives


@dataclass(frozen=True, slots=True)
class OrderPlan:
    """Exactly what will be sent; the confirmation card renders it. `order_type` is only ever
    LIMIT or SL; `requested_type` is what the user asked for. `slices` has more than one entry
    when the quantity is above the freeze quantity (one order each)."""

    instrument: Instrument
    side: Side
    quantity: int
    order_type: OrderType
    price: Decimal
    trigger_price: Decimal | None
    product: Product
    slices: tuple[int, ...]
    requested_type: OrderType
    reference_price: Decimal | None  # the LTP (or bid/ask, or trigger) the price came from
    # How the price was derived; for a price the user gave, None or a note on what could not
    # be checked.
    explanation: str | None
    lots: int | None  # derivatives only
    amo: bool = False  # an after-market order: the market was closed (`bot.orders.sessions`)


@dataclass(frozen=True)
class PolicyConfig:
    """`max_ltp_age`: a quote older than this is not a price to protect from. Five minutes is
    long enough for a quiet stock's last trade and short enough to catch a feed that stopped.
    `lpp`: the exchange's F&O limit price protection bands."""

    grid: ProtectionGrid = DEFAULT_GRID
    lpp: LppBands = DEFAULT_LPP
    max_ltp_age: timedelta = timedelta(minutes=5)


_DEFAULT_CONFIG = PolicyConfig()


class _Pricing(NamedTuple):
    order_type: OrderType
    price: Decimal
    trigger_price: Decimal | None
    reference_price: Decimal | None
    explanation: str | None


def plan_order(
    ticket: OrderTicket,
    instrument: Instrument,
    quote: Quote | None,
    now: datetime,
    config: PolicyConfig = _DEFAULT_CONFIG,
) -> OrderPlan:
    """Check the ticket against the instrument and price it. `quote` is the latest snapshot (None
    when there is none); `now` is compared with `quote.at` to spot a stale LTP. Raises
    `UserError` with one plain sentence for every refusal."""
    key = instrument.key
    if instrument.kind is InstrumentKind.INDEX:
        raise UserError(
            "not_tradable",
            f"{key} is an index: it has quotes but cannot be traded. Trade its futures or options.",
        )
    product = _product(ticket, instrument)
    if instrument.tick_size <= 0:
        # Kotak's master marks indices with dTickSize -1 (kotak-neo.md §10); any other
        # non-positive tick is a broken master row, and no price can be checked against it.
        raise UserError(
            "unknown_tick",
            f"{key} has no known tick size, so no price for it can be checked; "
            "try again after the instrument list is refreshed.",
        )
    lots = check_lots(ticket.quantity, instrument)
    slices = slice_quantity(ticket.quantity, instrument.lot_size, instrument.freeze_qty)
    pricing = _price(ticket, instrument, quote, now, config)
    if pricing.trigger_price is not None:
        check_stop_side(key, ticket.side, pricing.trigger_price, quote, now, config)
    explanation = pricing.explanation
    if ticket.order_type is not OrderType.MARKET:  # a protected market price is kept inside
        check_band(instrument, pricing.price, pricing.trigger_price, quote, config)
        ltp = quote.ltp if quote is not None else None
        if explanation is None and unchecked(instrument, pricing.trigger_price, ltp, config.lpp):
            explanation = (
                f"{key} has no last traded price, so the exchange's price protection range "
                "for this limit could not be checked."
            )
    return OrderPlan(
        instrument=instrument,
        side=ticket.side,
        quantity=ticket.quantity,
        order_type=pricing.order_type,
        price=pricing.price,
        trigger_price=pricing.trigger_price,
        product=product,
        slices=tuple(slices),
        requested_type=ticket.order_type,
        reference_price=pricing.reference_price,
        explanation=explanation,
        lots=lots if instrument.kind.is_derivative else None,
    )


def _product(ticket: OrderTicket, instrument: Instrument) -> Product:
    derivative = instrument.kind.is_derivative
    if ticket.product is None:
        return Product.NRML if derivative else Product.CNC
    if ticket.product is Product.CNC and derivative:
        raise UserError(
            "bad_product",
            f"CNC (delivery) is for equity only and {instrument.key} is a derivative; "
            "use NRML (carry forward) or MIS (intraday).",
        )
    return ticket.product


def _price(
    ticket: OrderTicket,
    instrument: Instrument,
    quote: Quote | None,
    now: datetime,
    config: PolicyConfig,
) -> _Pricing:
    tick = instrument.tick_size
    kind = ticket.order_type
    is_option = instrument.kind.is_option
    if kind in (OrderType.MARKET, OrderType.SL_M) and ticket.price is not None:
        raise UserError(
            "bad_price", f"{kind} orders take no limit price; send a LIMIT or SL order instead."
        )
    if kind in (OrderType.MARKET, OrderType.LIMIT) and ticket.trigger_price is not None:
        raise UserError(
            "bad_trigger", f"{kind} orders take no trigger price; send an SL order instead."
        )

    if kind is OrderType.LIMIT:
        return _Pricing(OrderType.LIMIT, _user_price(ticket, tick), None, None, None)
    if kind is OrderType.SL:
        price = _user_price(ticket, tick)
        trigger = _user_trigger(ticket, tick)
        if (ticket.side is Side.BUY and price < trigger) or (
            ticket.side is Side.SELL and price > trigger
        ):
            where = "at or above" if ticket.side is Side.BUY else "at or below"
            raise UserError(
                "bad_trigger",
                f"For a {ticket.side.lower()} stop-loss the limit {format_price(price)} must be "
                f"{where} the trigger {format_price(trigger)}.",
            )
        return _Pricing(OrderType.SL, price, trigger, None, None)
    if kind is OrderType.SL_M:
        trigger = _user_trigger(ticket, tick)
        stop = protect_stop(ticket.side, trigger, tick, is_option=is_option, grid=config.grid)
        return _Pricing(OrderType.SL, stop.price, trigger, trigger, stop.explanation)
    protected = _protect_market(ticket, instrument, quote, now, config)
    return _Pricing(
        OrderType.LIMIT, protected.price, None, protected.reference, protected.explanation
    )


def check_stop_side(
    key: str,
    side: Side,
    trigger: Decimal,
    quote: Quote | None,
    now: datetime,
    config: PolicyConfig = _DEFAULT_CONFIG,
) -> None:
    """Refuse a stop-loss trigger on the wrong side of the LTP. A SELL stop protects a long
    position by triggering when the price falls to it, so its trigger must be below the LTP; a
    BUY stop triggers on a rise, so above. A trigger already passed fires at once: the order
    becomes a plain limit at once, resting far from the market (a SELL "stop" at 900 with the
    LTP at 807 becomes a sell limit at 895.50). Without a recent LTP nothing is refused."""
    ltp = quote.ltp if quote is not None else None
    if (
        ltp is None
        or quote is None
        or (quote.at is not None and now - quote.at > config.max_ltp_age)
    ):
        return
    buying = side is Side.BUY
    if (trigger > ltp) if buying else (trigger < ltp):
        return
    where, move = ("above", "rises") if buying else ("below", "falls")
    raise UserError(
        "bad_trigger",
        f"A {side.lower()} stop-loss triggers when the price {move} to its trigger, so the "
        f"trigger must be {where} the LTP {format_price(ltp)} of {key}; "
        f"{format_price(trigger)} is not. For a limit order at that price, send it with @PRICE.",
    )


def check_band(
    instrument: Instrument,
    price: Decimal,
    trigger: Decimal | None,
    quote: Quote | None,
    config: PolicyConfig = _DEFAULT_CONFIG,
) -> None:
    """Refuse a limit (or trigger) outside the day's circuit band, which the exchange rejects
    (rules.md §3.3), and a limit outside the exchange's F&O limit price protection range
    (rules.md §2.2), both before the card. The circuit is checked only when the quote gives both
    limits (an unknown band refuses nothing); LPP as `bot.orders.lpp.check_lpp` says."""
    key = instrument.key
    lower = quote.lower_circuit if quote is not None else None
    upper = quote.upper_circuit if quote is not None else None
    if lower is not None and upper is not None:
        for name, value in (("limit price", price), ("trigger", trigger)):
            if value is not None and not lower <= value <= upper:
                raise UserError(
                    "outside_band",
                    f"The {name} {format_price(value)} is outside today's price band of {key} "
                    f"({format_price(lower)} to {format_price(upper)}); the exchange would "
                    "reject it.",
                )
    check_lpp(instrument, price, trigger, quote.ltp if quote is not None else None, config.lpp)


def _user_price(ticket: OrderTicket, tick: Decimal) -> Decimal:
    if ticket.price is None:
        raise UserError("bad_price", f"{ticket.order_type} orders need a limit price.")
    if ticket.price <= 0:
        raise UserError("bad_price", f"The limit price must be above 0; got {ticket.price}.")
    check_tick(ticket.price, tick)
    return ticket.price


def _user_trigger(ticket: OrderTicket, tick: Decimal) -> Decimal:
    if ticket.trigger_price is None:
        raise UserError("bad_trigger", f"{ticket.order_type} orders need a trigger price.")
    if ticket.trigger_price <= 0:
        raise UserError(
            "bad_trigger", f"The trigger price must be above 0; got {ticket.trigger_price}."
        )
    check_tick(ticket.trigger_price, tick)
    return ticket.trigger_price


def _protect_market(
    ticket: OrderTicket,
    instrument: Instrument,
    quote: Quote | None,
    now: datetime,
    config: PolicyConfig,
) -> ProtectedPrice:
    """Price a MARKET ticket from the LTP, or refuse it.

    An option with no LTP is refused (Kotak rejects it too: kotak-neo.md §11; NSE code 17181 for an
    option not traded that day). Equity and futures fall back to the best ask (BUY) or bid (SELL)
    of a fresh quote. A stale quote is refused outright: its bid and ask are as old as its LTP.
    So is an undated one: its age is unknown, so it may be just as stale.
    """
    buying = ticket.side is Side.BUY
    is_option = instrument.kind.is_option
    recent = ""
    example = "PRICE"
    if quote is None:
        why = "no quote is available"
    elif (age := stale_age(quote, now, config.max_ltp_age)) is not None:
        recent = "recent "
        why = f"the last quote is {_age(age)} old"
    elif _priced(quote, buying, is_option) and quote.at is None:
        recent = "dated "
        why = "the quote carries no time, so its age is unknown"
    elif quote.ltp is not None and quote.ltp > 0:
        return _protect_from(ticket, instrument, quote, quote.ltp, "LTP", config)
    else:
        why = "it has not traded today"
        best, name = (quote.ask, "ask") if buying else (quote.bid, "bid")
        if best is not None and best > 0:
            if not is_option:
                return _protect_from(ticket, instrument, quote, best, name, config)
            example = format_price(best)
        elif not is_option:
            why += f" and has no {name}"
    outcome = "cannot be protected and would be rejected" if is_option else "cannot be protected"
    raise UserError(
        "no_ltp",
        f"{instrument.key} has no {recent}last traded price ({why}), so a market order {outcome}. "
        f"Send a limit order instead, e.g. /{ticket.side.lower()} {instrument.key} "
        f"{ticket.quantity} @{example}.",
    )


def _priced(quote: Quote, buying: bool, is_option: bool) -> bool:
    """Whether the quote has a price a market order could be protected from."""
    if quote.ltp is not None and quote.ltp > 0:
        return True
    best = quote.ask if buying else quote.bid
    return not is_option and best is not None and best > 0


def _protect_from(
    ticket: OrderTicket,
    instrument: Instrument,
    quote: Quote,
    reference: Decimal,
    reference_name: str,
    config: PolicyConfig,
) -> ProtectedPrice:
    return protect(
        ticket.side,
        reference,
        instrument.tick_size,
        is_option=instrument.kind.is_option,
        grid=config.grid,
        lower_circuit=quote.lower_circuit,
        upper_circuit=quote.upper_circuit,
        # The exchange's reference is the last trade: without one (priced from the bid or ask)
        # there is no range to keep inside.
        lpp=lpp_range(instrument, quote.ltp, config.lpp) if quote.ltp is not None else None,
        reference_name=reference_name,
    )


def _age(age: timedelta) -> str:
    seconds = int(age.total_seconds())
    return f"{seconds // 60} minutes" if seconds >= 120 else f"{seconds} seconds"
