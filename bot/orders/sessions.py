"""The market's hours on an order card: a regular order while the segment trades, an
after-market order (AMO) the user chooses on the card while it is shut, or one plain refusal.

Out of hours nothing is queued silently: the card says the market is closed, when it opens and
that the order goes as an AMO inside the broker's AMO window; the user's tap on "Send as AMO" is
the choice (rules.md §6.9). Where the broker takes no AMO, or its window is shut, the order is
refused before any card.

Choices, in plain terms:
- Pre-open call auction (equity; futures in F&O): a regular order is sent as the broker does,
  and takes part in the auction; what does not match rests for the open. Stop-loss orders are
  refused there (the F&O pre-open rejects them; the cash one is treated the same, rules.md
  §2.3). From the auction's order-entry close to the open (09:08–09:15) the segment is closed,
  and outside every broker's AMO window, so orders are refused with the time to send again.
- A market order out of hours is refused: there is no live LTP to protect it from, and a price
  protected from yesterday's close would be a guess sent in the user's name. An AMO is a limit
  order at the user's own price (the card names the last price as a hint).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.errors import UserError
from bot.market.hours import MarketHours, MarketState, Phase
from bot.orders.policy import OrderTicket
from bot.orders.protection import format_price
from brokers.models import AmoWindow, Instrument, OrderType, Quote

_STOPS = (OrderType.SL, OrderType.SL_M)


@dataclass(frozen=True, slots=True)
class SessionCheck:
    """What the card says about the market. `amo_window` is set when the order goes as an AMO:
    the broker's window, stated on the card."""

    state: MarketState
    amo_window: AmoWindow | None = None

    @property
    def amo(self) -> bool:
        return self.amo_window is not None


def check_session(
    hours: MarketHours | None,
    instrument: Instrument,
    ticket: OrderTicket,
    quote: Quote | None,
    now: datetime,
    *,
    broker: str,
    amo_window: AmoWindow | None,
) -> SessionCheck | None:
    """How `ticket` may go at `now`, or a `UserError` saying why it cannot. None when market
    hours are off (`hours` is None)."""
    if hours is None:
        return None
    state = hours.state(instrument, now)
    if state.phase is Phase.PRE_OPEN and ticket.order_type in _STOPS:
        raise UserError(
            "pre_open",
            f"{state.segment} is in its pre-open call auction, which takes no stop-loss "
            "orders; send it again from the open at 09:15 IST.",
        )
    if state.is_open:
        return SessionCheck(state)
    closed = f"{state.segment} is closed ({state.reason}){_opens(state)}"
    if amo_window is None:
        raise UserError(
            "market_closed",
            f"{closed}. {broker.capitalize()} takes no after-market orders through the bot, so "
            "nothing can be sent now; send the order again when the market is open.",
        )
    if not hours.amo_accepted(state, amo_window):
        raise UserError(
            "amo_window",
            f"{closed}. {broker.capitalize()} takes after-market orders only from "
            f"{window_text(amo_window)}, so nothing can be sent now; send the order again then "
            "or once the market is open.",
        )
    if ticket.order_type is not OrderType.LIMIT:
        last = (quote.ltp or quote.close) if quote is not None else None
        example = format_price(last) if last is not None else "PRICE"
        hint = f" (last price {format_price(last)})" if last is not None else ""
        raise UserError(
            "amo_limit_only",
            f"{closed}, so the order can only go as an after-market order, and that must be a "
            "plain limit order at your price: with no live market there is no price to protect "
            f"a {ticket.order_type} order from. E.g. /{ticket.side.lower()} {instrument.key} "
            f"{ticket.quantity} @{example}{hint}.",
        )
    return SessionCheck(state, amo_window)


def window_text(window: AmoWindow) -> str:
    """ "15:45 to 08:57 IST" (the next morning)."""
    return f"{window.opens:%H:%M} to {window.closes:%H:%M} IST"


def _opens(state: MarketState) -> str:
    if state.next_open is None:
        return ""
    return f"; it opens {state.next_open:%a %d %b at %H:%M} IST"
