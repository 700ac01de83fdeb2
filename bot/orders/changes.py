"""Following up a modify or cancel whose outcome was unknown: does the order book show it done?

A change whose request had no usable answer may or may not have reached the exchange. Unlike a
place it may safely be sent again, but the user must be told which it was, so the tracker
compares the order as the book shows it with what was asked for, and this module says what
that comparison means.
"""

from __future__ import annotations

from bot.orders.intents import CancelPayload, ModifyPayload
from brokers.models import Order, OrderStatus


def judge(asked: ModifyPayload | CancelPayload, order: Order | None) -> bool | None:
    """True when the book shows the change made, False when it shows it cannot have been (the
    order ended otherwise), None when it cannot tell yet (the order is still open with its old
    terms, or not in the book): look again later."""
    if order is None:
        return None
    if isinstance(asked, CancelPayload):
        if order.status is OrderStatus.CANCELLED:
            return True
        return False if order.status.is_final else None
    if _shows(asked, order):
        return True
    return False if order.status.is_final else None


def _shows(asked: ModifyPayload, order: Order) -> bool:
    order_type = asked.order_type or asked.order.order_type
    trigger = asked.trigger_price if asked.trigger_price is not None else order.trigger_price
    return (
        order.quantity == asked.quantity
        and order.price == asked.price
        and order.order_type is order_type
        and order.trigger_price == trigger
    )


def not_applied(asked: ModifyPayload | CancelPayload, order: Order | None) -> str:
    """Why the change is known not to have happened, in one plain sentence for the card."""
    cancel = isinstance(asked, CancelPayload)
    again = "/cancel" if cancel else "/modify"
    if order is None:
        what = "cancel" if cancel else "change"
        return (
            f"The order is not in the order book, so the {what} could not be confirmed; "
            "check /orders."
        )
    if order.status.is_final:
        status = order.status.value.lower()
        if cancel:
            return f"The order is {status}, so it was not cancelled."
        return f"The order is {status} without the change; nothing was changed."
    if cancel:
        return (
            f"The order is still open; it was not cancelled. Send {again} again if you still "
            "want it."
        )
    return (
        "The order book still shows the old terms; the change was not made. "
        f"Send {again} again if you still want it."
    )
