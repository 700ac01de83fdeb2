"""Order handling and bookkeeping of the paper account: risk checks, matching and fills.

Matching. An order is matched when it is placed or modified, and again after every price change
(`Book.match`). A LIMIT order fills completely, at the LTP, as soon as it is marketable (BUY: LTP ≤
limit; SELL: LTP ≥ limit), so a marketable order fills at once at a price at least as good as its
limit. An SL order waits in TRIGGER_PENDING until the LTP reaches the trigger (BUY: LTP ≥ trigger;
SELL: LTP ≤ trigger), then works as its limit. An instrument without an LTP (an untraded strike, an
expired contract) never fills. An IOC order that does not fill when it starts working is cancelled.

Risk. Like a broker's RMS, the checks after validation (circuit band, holdings for a CNC sell,
margin) do not raise on placement: the order is accepted and immediately REJECTED with the reason
in the order book, which is how real brokers report them. A modification that fails them raises
and leaves the order as it was.

Money. CNC trades move cash (a buy pays its value, a sell receives it) and holdings; MIS and NRML
trades move cash only by the P&L they realize, while their positions hold margin (see `margin.py`).
`Funds.total` is cash, `used_margin` is position margin plus margin blocked by working orders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

from brokers.errors import (
    BrokerRejected,
    DuplicateTag,
    InstrumentNotFound,
    InsufficientFunds,
    OrderNotFound,
    OrderNotModifiable,
)
from brokers.models import (
    Funds,
    Holding,
    Instrument,
    MarginCheck,
    ModifyRequest,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Product,
    Side,
    Trade,
    Validity,
)
from brokers.paper.ledger import BookOrder, HoldingRecord, Ledger, PositionRecord
from brokers.paper.margin import exposure_margin, order_margin
from brokers.paper.market import Market
from brokers.paper.pricing import settlement_price
from brokers.paper.validation import check_order

PAISE = Decimal("0.01")


class Book:
    """The paper account over `ledger`, priced by `market`. Synchronous: each call runs to the end
    on the event loop, so no other task sees a half-applied fill."""

    def __init__(
        self,
        ledger: Ledger,
        market: Market,
        clock: Callable[[], datetime],
        is_open: Callable[[Instrument, datetime], bool] | None = None,
    ) -> None:
        """`is_open`: whether an instrument's segment trades at a moment (the bot's market
        hours); None: always, so an AMO is released at once."""
        self._ledger = ledger
        self._market = market
        self._now = clock
        self._is_open = is_open
        self._cancel_expired()

    @property
    def ledger(self) -> Ledger:
        return self._ledger

    def place(self, request: OrderRequest) -> str:
        """A tag already in the book is refused as `DuplicateTag`, cancelled order or not, as
        Kotak does (kotak-neo.md §4.1), so a second send of one order cannot make two."""
        if request.tag and any(o.tag == request.tag for o in self._ledger.orders.values()):
            raise DuplicateTag(f"An order with tag {request.tag} already exists.")
        instrument = self._instrument(request.instrument.key)
        check_order(instrument, request)
        stop_loss = request.order_type is OrderType.SL
        held = request.amo and not self._open(instrument)
        if held:
            status = OrderStatus.PENDING
        else:
            status = OrderStatus.TRIGGER_PENDING if stop_loss else OrderStatus.OPEN
        order = BookOrder(
            order_id=self._ledger.new_order_id(),
            key=instrument.key,
            side=request.side,
            quantity=request.quantity,
            order_type=request.order_type,
            product=request.product,
            validity=request.validity,
            price=request.price,
            trigger_price=request.trigger_price if stop_loss else None,
            tag=request.tag,
            status=status,
            updated_at=self._now(),
            amo=request.amo,
        )
        self._ledger.orders[order.order_id] = order
        try:
            order.blocked = self._risk_check(instrument, order)
        except BrokerRejected as rejection:
            order.status, order.message = OrderStatus.REJECTED, rejection.message
        else:
            if not held:
                self._match_one(order)
        return order.order_id

    def release(self) -> bool:
        """Send the held AMOs whose segment now trades to the paper exchange (as a broker does
        at the open) and match them; True if any was released."""
        released = False
        for order in self._ledger.orders.values():
            instrument = self._market.instrument(order.key)
            if order.held and instrument is not None and self._open(instrument):
                stop_loss = order.order_type is OrderType.SL
                order.status = OrderStatus.TRIGGER_PENDING if stop_loss else OrderStatus.OPEN
                order.updated_at = self._now()
                self._match_one(order)
                released = True
        return released

    def _open(self, instrument: Instrument) -> bool:
        return self._is_open is None or self._is_open(instrument, self._now())

    def modify(self, request: ModifyRequest) -> None:
        order = self._working_order(request.order_id)
        fixed = (order.key, order.side, order.product)
        if (request.instrument.key, request.side, request.product) != fixed:
            raise BrokerRejected(
                "Only the quantity, price, trigger price, order type and validity of an order "
                "can be modified."
            )
        instrument = self._instrument(order.key)
        check_order(instrument, request)
        stop_loss = request.order_type is OrderType.SL
        waiting = stop_loss and not order.triggered
        if order.held:
            status = OrderStatus.PENDING
        else:
            status = OrderStatus.TRIGGER_PENDING if waiting else OrderStatus.OPEN
        modified = replace(
            order,
            quantity=request.quantity,
            order_type=request.order_type,
            validity=request.validity,
            price=request.price,
            trigger_price=request.trigger_price if stop_loss else None,
            status=status,
            updated_at=self._now(),
        )
        modified.blocked = self._risk_check(instrument, modified, released=order.blocked)
        self._ledger.orders[order.order_id] = modified
        if not modified.held:
            self._match_one(modified)

    def cancel(self, order_id: str) -> None:
        order = self._working_order(order_id)
        order.status, order.blocked, order.updated_at = (
            OrderStatus.CANCELLED,
            Decimal(0),
            self._now(),
        )

    def match(self) -> bool:
        """Run every working order against current prices; True if any changed state."""
        changed = [
            self._match_one(order) for order in self._ledger.orders.values() if order.working
        ]
        return any(changed)

    def orders(self) -> list[Order]:
        return [order.to_model() for order in self._ledger.orders.values()]

    def trades(self) -> list[Trade]:
        return list(self._ledger.trades)

    def positions(self) -> list[Position]:
        return [
            position.to_model(self._market.ltp(position.key))
            for position in self._ledger.positions.values()
        ]

    def holdings(self) -> list[Holding]:
        return [
            Holding(h.key, h.quantity, h.average_price, self._market.ltp(h.key))
            for h in self._ledger.holdings.values()
        ]

    def funds(self) -> Funds:
        used = self._used_margin()
        cash = self._ledger.cash
        return Funds(
            available=(cash - used).quantize(PAISE),
            used_margin=used.quantize(PAISE),
            total=cash.quantize(PAISE),
        )

    def check_margin(self, request: OrderRequest) -> MarginCheck:
        """What placing `request` now would block, against what is free: the figures the
        risk check compares (holdings for a CNC sell are not margin, and not judged here)."""
        instrument = self._instrument(request.instrument.key)
        required = self._margin_of(
            instrument, request.side, request.quantity, request.price, request.product
        )
        available = self._ledger.cash - self._used_margin()
        return MarginCheck(
            required.quantize(PAISE), available.quantize(PAISE), required <= available
        )

    def _margin_of(
        self, instrument: Instrument, side: Side, quantity: int, price: Decimal, product: Product
    ) -> Decimal:
        """The margin an order would block, netted against the open position in its product
        (one rule for the pre-trade check and the RMS check, so the card never disagrees)."""
        position = self._ledger.positions.get((instrument.key, product))
        return order_margin(
            instrument,
            side,
            quantity,
            price,
            product,
            position.quantity if position else 0,
            self._market.spot(instrument),
        )

    def _instrument(self, key: str) -> Instrument:
        instrument = self._market.instrument(key)
        if instrument is None:
            raise InstrumentNotFound(f"Unknown instrument {key}.")
        return instrument

    def _working_order(self, order_id: str) -> BookOrder:
        order = self._ledger.orders.get(order_id)
        if order is None:
            raise OrderNotFound(f"No order {order_id} in the book.")
        if order.status.is_final:
            raise OrderNotModifiable(f"Order {order_id} is already {order.status.value.lower()}.")
        return order

    def _risk_check(
        self, instrument: Instrument, order: BookOrder, released: Decimal = Decimal(0)
    ) -> Decimal:
        """Raise what the RMS would say about `order`; else return the margin it blocks.
        `released` is margin the order already holds (a modification)."""
        quote = self._market.quote(order.key)
        lower, upper = quote.lower_circuit, quote.upper_circuit
        if lower is not None and upper is not None and not lower <= order.price <= upper:
            raise BrokerRejected(
                f"Price {order.price} is outside the circuit limits {lower}–{upper} "
                f"for {order.key}."
            )
        if order.product is Product.CNC and order.side is Side.SELL:
            free = self._free_holding(order.key, excluding=order.order_id)
            if order.quantity > free:
                raise BrokerRejected(
                    f"RMS: insufficient holdings: required {order.quantity}, available {free} "
                    f"of {order.key}"
                )
        required = self._margin_of(
            instrument, order.side, order.quantity, order.price, order.product
        )
        available = self._ledger.cash - self._used_margin() + released
        if required > available:
            raise InsufficientFunds(
                f"RMS: insufficient funds: required ₹{required:,.2f}, available ₹{available:,.2f}"
            )
        return required

    def _free_holding(self, key: str, excluding: str) -> int:
        """Holdings of `key` not already promised to other working CNC sells."""
        holding = self._ledger.holdings.get(key)
        promised = sum(
            order.quantity
            for order in self._ledger.orders.values()
            if (order.working or order.held)
            and order.key == key
            and order.product is Product.CNC
            and order.side is Side.SELL
            and order.order_id != excluding
        )
        return (holding.quantity if holding else 0) - promised

    def _used_margin(self) -> Decimal:
        blocked = sum(
            (o.blocked for o in self._ledger.orders.values() if o.working or o.held), Decimal(0)
        )
        held = sum(map(self._position_margin, self._ledger.positions.values()), Decimal(0))
        return blocked + held

    def _position_margin(self, position: PositionRecord) -> Decimal:
        """Margin a MIS/NRML position holds, at its average price (fixed at entry, so it does not
        wobble with every tick). CNC is paid in cash; expired contracts hold none."""
        instrument = self._market.instrument(position.key)
        if position.product is Product.CNC or position.quantity == 0 or instrument is None:
            return Decimal(0)
        return exposure_margin(
            instrument,
            short=position.quantity < 0,
            quantity=abs(position.quantity),
            price=position.average_price,
            spot=self._market.spot(instrument),
        )

    def _match_one(self, order: BookOrder) -> bool:
        before = order.status
        ltp = self._market.ltp(order.key)
        if ltp is None:
            return False
        if order.status is OrderStatus.TRIGGER_PENDING:
            assert order.trigger_price is not None
            reached = (
                ltp >= order.trigger_price if order.side is Side.BUY else ltp <= order.trigger_price
            )
            if not reached:
                return False
            order.status, order.triggered, order.updated_at = OrderStatus.OPEN, True, self._now()
        if ltp <= order.price if order.side is Side.BUY else ltp >= order.price:
            self._fill(order, ltp)
        elif order.validity is Validity.IOC:
            order.status, order.blocked, order.updated_at = (
                OrderStatus.CANCELLED,
                Decimal(0),
                self._now(),
            )
            order.message = "IOC order cancelled: nothing to match at its limit price."
        return order.status is not before

    def _fill(self, order: BookOrder, price: Decimal) -> None:
        now = self._now()
        order.status, order.blocked, order.updated_at = OrderStatus.COMPLETE, Decimal(0), now
        order.filled_quantity, order.average_price = order.quantity, price
        self._ledger.trades.append(
            Trade(
                trade_id=self._ledger.new_trade_id(),
                order_id=order.order_id,
                key=order.key,
                side=order.side,
                quantity=order.quantity,
                price=price,
                product=order.product,
                at=now,
            )
        )
        position = self._ledger.position(order.key, order.product)
        realized = position.apply(order.side, order.quantity, price)
        if order.product is not Product.CNC:
            self._ledger.cash += realized
        elif order.side is Side.BUY:
            self._ledger.cash -= price * order.quantity
            holding = self._ledger.holdings.setdefault(
                order.key, HoldingRecord(order.key, 0, Decimal(0))
            )
            holding.add(order.quantity, price)
        else:
            self._ledger.cash += price * order.quantity
            holding = self._ledger.holdings[order.key]
            holding.quantity -= order.quantity
            if holding.quantity == 0:
                del self._ledger.holdings[order.key]

    def new_day(self, day: date, market: Market) -> None:
        """The end of a trading day, before `day` begins on `market` (its new instrument list).
        Contracts that expired settle (see `_settle`); the day's orders and trades end with it,
        as a broker's order book and trade book are the day's: working orders were DAY or IOC
        orders, which the exchange ends at the close, and they release their margin. AMOs not
        yet sent to the exchange stay, holding their margin, until the next session."""
        for position in list(self._ledger.positions.values()):
            instrument = self._market.instrument(position.key)
            if instrument is not None and instrument.expiry is not None and instrument.expiry < day:
                self._settle(instrument, position)
        held = {i: o for i, o in self._ledger.orders.items() if o.held}
        self._ledger.orders.clear()
        self._ledger.orders.update(held)  # AMOs wait for the next session, whatever the date
        self._ledger.trades.clear()
        self._market = market

    def _settle(self, instrument: Instrument, position: PositionRecord) -> None:
        """An expired contract's position closes at its settlement price, which moves its P&L
        into cash (a long option out of the money loses its premium, a short one keeps it),
        and it leaves the positions and the margin they hold."""
        if position.quantity:
            price = settlement_price(
                instrument, self._market.spot(instrument), self._market.ltp(instrument.key)
            )
            side = Side.SELL if position.quantity > 0 else Side.BUY
            self._ledger.cash += position.apply(side, abs(position.quantity), price)
        del self._ledger.positions[(position.key, position.product)]

    def _cancel_expired(self) -> None:
        """Working orders on contracts that no longer exist (expired since the book was saved) are
        cancelled, as the exchange does at expiry; they stay in the book."""
        for order in self._ledger.orders.values():
            if (order.working or order.held) and self._market.instrument(order.key) is None:
                order.status, order.blocked = OrderStatus.CANCELLED, Decimal(0)
                order.message = "Contract expired; order cancelled by the exchange."
