"""The checks a real broker or exchange makes before accepting an order, raised synchronously.

The bot's order policy already makes orders legal; these checks exist so that a policy bug shows up
on paper exactly as it would at Kotak or mStock, with the same error classes (rules.md §2.3, §3.2,
§3.4, §3.5).
"""

from __future__ import annotations

from decimal import Decimal

from brokers.errors import BrokerRejected, InvalidQuantity
from brokers.models import (
    Instrument,
    InstrumentKind,
    ModifyRequest,
    OrderRequest,
    OrderType,
    Product,
    Side,
)

MARKET_REFUSED = "Market orders are not accepted from API sessions; send a limit order."
INDEX_REFUSED = "Indices cannot be traded; trade a future or option instead."


def check_order(instrument: Instrument, request: OrderRequest | ModifyRequest) -> None:
    """Raise the broker's refusal of `request` on `instrument`, if any (a modification is checked
    like a new order)."""
    if instrument.kind is InstrumentKind.INDEX:
        raise BrokerRejected(INDEX_REFUSED)
    _check_quantity(instrument, request.quantity)
    if request.order_type in (OrderType.MARKET, OrderType.SL_M):
        raise BrokerRejected(MARKET_REFUSED)
    _check_price("Price", request.price, instrument)
    if request.order_type is OrderType.SL:
        _check_trigger(instrument, request.side, request.price, request.trigger_price)
    if request.product is Product.CNC and instrument.kind.is_derivative:
        raise BrokerRejected("CNC (delivery) is for equity only; use NRML or MIS for F&O.")
    if request.product is Product.NRML and instrument.kind is InstrumentKind.EQUITY:
        raise BrokerRejected("NRML is for F&O; use CNC or MIS for equity.")


def _check_quantity(instrument: Instrument, quantity: int) -> None:
    if quantity <= 0:
        raise InvalidQuantity(f"Quantity must be positive, got {quantity}.")
    if quantity % instrument.lot_size:
        raise InvalidQuantity(
            f"Quantity {quantity} is not a multiple of the lot size {instrument.lot_size} "
            f"for {instrument.key}."
        )
    if instrument.freeze_qty is not None and quantity > instrument.freeze_qty:
        raise InvalidQuantity(
            f"Quantity {quantity} is above the freeze quantity {instrument.freeze_qty} "
            f"for {instrument.key}; split the order."
        )


def _check_price(label: str, price: Decimal, instrument: Instrument) -> None:
    if price <= 0:
        raise BrokerRejected(f"{label} must be positive, got {price}.")
    if price % instrument.tick_size:
        raise BrokerRejected(
            f"{label} {price} is not a multiple of the tick size {instrument.tick_size} "
            f"for {instrument.key}."
        )


def _check_trigger(
    instrument: Instrument, side: Side, price: Decimal, trigger_price: Decimal | None
) -> None:
    if trigger_price is None:
        raise BrokerRejected("A stop-loss order needs a trigger price.")
    _check_price("Trigger price", trigger_price, instrument)
    if side is Side.BUY and price < trigger_price:
        raise BrokerRejected(
            f"For a BUY stop-loss the limit price {price} must be at or above the trigger "
            f"price {trigger_price}."
        )
    if side is Side.SELL and price > trigger_price:
        raise BrokerRejected(
            f"For a SELL stop-loss the limit price {price} must be at or below the trigger "
            f"price {trigger_price}."
        )
