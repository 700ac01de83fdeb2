"""`MStockBroker`: the mStock (Mirae Asset) Type B API behind the `brokers.base.Broker` protocol.

Every request goes through `_send`, which sets the headers for the call kind (ref §1), the
timeout for the call class, classifies transport failures (connect/pool timeout: nothing was
sent; read/write timeout on an order call: unknown outcome) and records the server's `Date`.
Every reply then goes through `replies.classify` once. A place is never retried here
(style.md "Absorb" 5). Proxy variables are ignored (`trust_env=False`): the broker is reached by
the same route as the egress-IP check that decides whether orders may leave. The order-rate slot
is taken right before an order request's headers are written (`PacesOrderWrites`).

Our tag: mStock's order book does not carry `ordertag` (ref §4.5); order details does (§4.6).
So the adapter remembers, per order it placed, the tag and the variety it sent, and asks order
details once for any order in the book it does not know (one placed before a restart, or one
whose place timed out), which is how an unknown outcome is found again by tag. mStock documents
no rule that a tag is used once, so the adapter enforces it: a tag it has sent before is refused
as `DuplicateTag` without a request (a tag whose place was refused for sure is free again).
Order updates come from polling the order book (the tracker) and, faster, from the ticker
websocket (`stream_orders`, ref §7, `feed.py`); both read rows through `_book_order`.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import httpx

from brokers.amo import STANDARD
from brokers.errors import (
    AuthError,
    BrokerError,
    BrokerRejected,
    BrokerUnavailable,
    DuplicateTag,
    OrderNotFound,
    OutcomeCause,
    SessionExpired,
    UnknownOutcome,
)
from brokers.feed_loop import FeedSettings
from brokers.master_cache import DailyFiles, TodaysMaster
from brokers.models import (
    AmoWindow,
    Funds,
    Holding,
    Instrument,
    MarginCheck,
    ModifyRequest,
    Order,
    OrderRequest,
    OrderType,
    Position,
    Quote,
    SessionInfo,
    Trade,
)
from brokers.mstock import mapping
from brokers.mstock.auth import TradeSession, headers_for, session_end
from brokers.mstock.config import MStockConfig
from brokers.mstock.constants import (
    IST,
    PATH_FUNDS,
    PATH_HOLDINGS,
    PATH_LOGIN,
    PATH_MARGIN,
    PATH_MASTER,
    PATH_ORDER,
    PATH_ORDER_BOOK,
    PATH_ORDER_DETAILS,
    PATH_PLACE,
    PATH_POSITIONS,
    PATH_QUOTE,
    PATH_TRADE_BOOK,
    PATH_VERIFY_TOTP,
    QUOTE_BATCH,
    QUOTE_MODE,
    TAG_PATTERN,
    USER_AGENT,
    VARIETY_AMO,
    VARIETY_NORMAL,
    VARIETY_STOPLOSS,
    CallKind,
)
from brokers.mstock.feed import MStockOrderFeed
from brokers.mstock.master import MStockMaster, build_master, decode_ref, our_exchange
from brokers.mstock.replies import classify, data_of, login_data
from brokers.network import send_failure
from brokers.tls import tls_context
from brokers.wire import RowMemo, server_clock, sha256_hex, today_ist
from brokers.writes import OrderWrites

log = logging.getLogger(__name__)

_T = TypeVar("_T")
# The saved session proves it was made with this key by a hash: the key itself never goes to disk.
_HASH_FIELD = "api_key_sha256"


def _fallback_key(exchange: str, token: str, instrument_type: str = "", shown: str = "") -> str:
    return f"{our_exchange(exchange, instrument_type)}:{shown or token}"


def _rows(body: Any) -> list[dict[str, Any]]:
    data = data_of(body)
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        return []  # an empty book comes as `data: null` or `[]`
    return [row for row in data if isinstance(row, dict)]


class MStockBroker:
    """mStock Type B adapter. One instance per account, used from one event loop.

    Extras outside the protocol: `last_server_date`, `clock_skew_seconds`, `session_created_at`,
    `api_key_prefix` (`RegistersIPsPerKey`), `resolve(key)`, `order(order_id)` and
    `check_margin(request)`.
    """

    name = "mstock"
    quote_batch_limit = QUOTE_BATCH  # brokers.base.LimitsQuoteBatch

    def __init__(
        self,
        config: MStockConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        today: Callable[[], date] | None = None,
    ) -> None:
        self._config = config
        self._base = config.base_url.rstrip("/")
        self._http = httpx.AsyncClient(
            transport=transport,
            headers={"User-Agent": USER_AGENT},
            trust_env=False,
            verify=tls_context(),
        )
        self._writes = OrderWrites()
        self._session: TradeSession | None = None
        # Accounts on one cache dir with one freeze table share the day's master (`TodaysMaster`).
        freezes = ",".join(f"{k}={v}" for k, v in sorted(config.freeze_qty.items()))
        self._master = TodaysMaster[MStockMaster](
            today or (lambda: today_ist()),
            self._load_master,
            kind=f"mstock:{freezes}",
            cache_dir=config.cache_dir,
        )
        self._files = DailyFiles(config.cache_dir, what="mStock instrument master", suffix=".json")
        self._tags: dict[str, str] = {}  # order id -> our tag ("" when details say none)
        self._used_tags: dict[str, str | None] = {}  # tag -> order id (None: outcome unknown)
        self._varieties: dict[str, str] = {}  # order id -> the variety it was placed with
        # Order rows mapped once each (the tracker reads the book every few seconds); our tag
        # rides in the row as `ordertag`, so it is part of what makes a row distinct.
        self._order_rows = RowMemo(mapping.order_from_row)
        self._quote_method = "POST"  # the SDKs' style; GET with a body when POST is not served
        self.last_server_date: datetime | None = None
        self.clock_skew_seconds: float | None = None
        self.session_created_at: datetime | None = None

    def __repr__(self) -> str:
        return (
            f"MStockBroker(client_code={self._config.client_code!r}, "
            f"logged_in={self._session is not None})"
        )

    @property
    def api_key_prefix(self) -> str:
        """`brokers.base.RegistersIPsPerKey`: which API key is in use, by its first characters."""
        return self._config.key_prefix

    # ------------------------------------------------------------------ transport

    def _timeout(self, kind: CallKind) -> httpx.Timeout:
        t = self._config.timeouts
        return {
            CallKind.LOGIN: t.login,
            CallKind.VERIFY: t.login,
            CallKind.ORDERS: t.orders,
            CallKind.REPORTS: t.reports,
            CallKind.MARKET_DATA: t.market_data,
            CallKind.MASTER: t.master,
        }[kind]

    def pace_order_writes(self, pace: Callable[[], Awaitable[None]]) -> None:
        """`brokers.base.PacesOrderWrites`: await `pace` right before each order request is
        written, so a rate slot is counted when the request leaves."""
        self._writes.pace = pace

    async def _send(
        self, method: str, kind: CallKind, path: str, *, what: str, json: Any = None
    ) -> httpx.Response:
        url = self._base + path
        headers = headers_for(kind, api_key=self._config.api_key, session=self._session)
        host = httpx.URL(url).host
        try:
            response = await self._http.request(
                method,
                url,
                headers=headers,
                json=json,
                timeout=self._timeout(kind),
                follow_redirects=False,  # never carry the JWT across a redirect
                extensions=self._writes.extensions() if kind is CallKind.ORDERS else None,
            )
        except httpx.TransportError as exc:
            raise send_failure(
                exc,
                broker="mStock",
                what=what,
                host=host,
                order_call=kind is CallKind.ORDERS,
                log=log,
            ) from None
        self._note_date(response)
        log.debug("mstock %s %s -> HTTP %s", method, what, response.status_code)
        return response

    def _note_date(self, response: httpx.Response) -> None:
        clock = server_clock(response.headers.get("Date"))
        if clock is None:
            return
        self.last_server_date, skew = clock
        if skew is not None:
            self.clock_skew_seconds = skew

    def _require_session(self) -> TradeSession:
        if self._session is None:
            raise SessionExpired("mStock: not logged in")
        return self._session

    async def _call(
        self,
        method: str,
        kind: CallKind,
        path: str,
        *,
        what: str,
        json: Any = None,
        place: bool = False,
    ) -> Any:
        self._require_session()
        response = await self._send(method, kind, path, what=what, json=json)
        return classify(response, kind=kind, what=what, place=place)

    # ------------------------------------------------------------------ session

    async def login(self, otp: str | None = None) -> SessionInfo:
        """connect/login (client code + password), then session/verifytotp with the request
        token and the TOTP (ref §2.2-§2.3); never a one-step TOTP login, whose token REST
        refuses (ref §9)."""
        if not otp:
            raise AuthError("mStock login needs the current TOTP code")
        cfg = self._config
        body = {"clientcode": cfg.client_code, "password": cfg.password, "totp": "", "state": ""}
        response = await self._send(
            "POST", CallKind.LOGIN, PATH_LOGIN, what="login (password)", json=body
        )
        first = login_data(response, step="password")
        request_token = str(first.get("refreshToken") or first["jwtToken"])
        response = await self._send(
            "POST",
            CallKind.VERIFY,
            PATH_VERIFY_TOTP,
            what="login (TOTP)",
            json={"refreshToken": request_token, "totp": str(otp)},
        )
        jwt = str(login_data(response, step="TOTP")["jwtToken"])
        created = datetime.now(IST)
        self._session = TradeSession(jwt, cfg.client_code, created, session_end(created, jwt))
        self.session_created_at = created
        log.info(
            "mstock: session created for %s, valid until %s",
            cfg.client_code,
            self._session.expires_at.astimezone(IST).strftime("%d %b %H:%M IST"),
        )
        return self._info(self._session)

    @staticmethod
    def _info(session: TradeSession) -> SessionInfo:
        return SessionInfo(
            account=session.client_code,
            created_at=session.created_at,
            expires_at=session.expires_at,
        )

    def export_session(self) -> dict[str, str] | None:
        """Today's JWT as strings (a secret: the account stores it owner-only; never log it).
        The API key is not in it, only its SHA-256."""
        s = self._session
        if s is None:
            return None
        return {
            _HASH_FIELD: sha256_hex(self._config.api_key),
            "jwt": s.jwt,
            "client_code": s.client_code,
            "created_at": s.created_at.isoformat(),
        }

    async def resume_session(self, data: dict[str, str]) -> SessionInfo:
        """Adopt a saved session without logging in (the account proves it with a read).
        SessionExpired when the data is incomplete, made with another key or client code, or
        past its end (midnight IST of its day at the latest)."""

        def text(key: str) -> str:
            value = data.get(key, "")
            if not isinstance(value, str) or not value.strip():
                raise SessionExpired("saved session is incomplete")
            return value.strip()

        jwt, client_code = text("jwt"), text("client_code")
        try:
            created = datetime.fromisoformat(text("created_at"))
        except ValueError:
            raise SessionExpired("saved session is incomplete") from None
        if created.tzinfo is None:
            raise SessionExpired("saved session is incomplete")
        if not hmac.compare_digest(text(_HASH_FIELD), sha256_hex(self._config.api_key)):
            raise SessionExpired("saved session was made with a different API key")
        if client_code.casefold() != self._config.client_code.strip().casefold():
            raise SessionExpired("saved session belongs to a different account")
        session = TradeSession(jwt, client_code, created, session_end(created, jwt))
        if datetime.now(UTC) >= session.expires_at:
            raise SessionExpired("saved session has expired")
        self._session = session
        self.session_created_at = created
        log.info("mstock: resumed the saved session for %s", client_code)
        return self._info(session)

    async def close(self) -> None:
        """Forget the session (no logout is needed before a new login, ref §12) and close."""
        self._session = None
        await self._http.aclose()

    # ------------------------------------------------------------------ orders

    async def place_order(self, request: OrderRequest) -> str:
        """Place one order with our tag in `ordertag`. Never retried: a timeout raises
        UnknownOutcome; a tag this adapter has sent before raises DuplicateTag unsent."""
        tag = request.tag
        if tag and not TAG_PATTERN.fullmatch(tag):
            raise BrokerRejected(
                f"the order tag {tag!r} is not 1-19 letters and digits, which mStock requires"
            )
        if tag and tag in self._used_tags:
            known = self._used_tags[tag]
            raise DuplicateTag(
                f"mStock place order: an order with tag {tag} was already sent"
                + (f" (order {known})" if known else "")
            )
        body = mapping.place_body(request, tag)
        if tag:
            self._used_tags[tag] = None
        log.info(
            "mstock place: tag=%s %s %s %s x%d",
            tag,
            request.side.value,
            request.instrument.key,
            request.order_type.value,
            request.quantity,
        )
        try:
            reply = await self._call(
                "POST", CallKind.ORDERS, PATH_PLACE, what="place order", json=body, place=True
            )
        except UnknownOutcome:
            raise  # the tag stays taken: that order may exist
        except BrokerError:
            if tag:
                del self._used_tags[tag]  # refused for sure: nothing carries this tag
            raise
        order_id = mapping.order_id_of(data_of(reply))
        if not order_id:
            raise UnknownOutcome(
                "mStock place order: accepted without an order number; check the order book by tag",
                cause=OutcomeCause.BAD_REPLY,
            )
        self._remember(order_id, tag, body["variety"])
        log.info("mstock placed: tag=%s order=%s", tag, order_id)
        return order_id

    def _remember(self, order_id: str, tag: str, variety: str | None = None) -> None:
        self._tags[order_id] = tag
        if tag:
            self._used_tags[tag] = order_id
        if variety:
            self._varieties[order_id] = variety

    def amo_window(self, exchange: str) -> AmoWindow | None:
        """`brokers.base.TakesAfterMarketOrders`: mStock takes AMOs as variety AMO; its windows
        are not documented (the common broker practice, brokers.amo)."""
        return STANDARD.get(exchange)

    async def _variety(self, order_id: str, order_type: OrderType | None = None) -> str:
        """The variety the order was placed with: remembered, else from its order type in the
        book (SL orders are STOPLOSS, ref §4.1), else NORMAL."""
        known = self._varieties.get(order_id)
        if known:
            return known
        if order_type is None:
            book = await self._book_rows()
            row = next((r for r in book if str(r.get("orderid", "")).strip() == order_id), None)
            if row is not None:
                order_type = mapping.order_from_row(row, _fallback_key).order_type
        return VARIETY_STOPLOSS if order_type is OrderType.SL else VARIETY_NORMAL

    async def modify_order(self, request: ModifyRequest) -> str:
        variety = (
            VARIETY_AMO
            if request.amo
            else await self._variety(request.order_id, request.order_type)
        )
        reply = await self._call(
            "PUT",
            CallKind.ORDERS,
            PATH_ORDER.format(order_id=request.order_id),
            what="modify order",
            json=mapping.modify_body(request, variety),
        )
        return mapping.order_id_of(data_of(reply)) or request.order_id

    async def cancel_order(self, order_id: str, *, amo: bool = False) -> str:
        variety = VARIETY_AMO if amo else await self._variety(order_id)
        reply = await self._call(
            "DELETE",
            CallKind.ORDERS,
            PATH_ORDER.format(order_id=order_id),
            what="cancel order",
            json=mapping.cancel_body(order_id, variety),
        )
        return mapping.order_id_of(data_of(reply)) or order_id

    # ------------------------------------------------------------------ reports

    async def _key_for(self) -> mapping.KeyFor:
        """Book rows carry exchange/token; our keys come from the master. If the master cannot
        be loaded, fall back to `EXCH:<the row's symbol>` rather than failing the read."""
        try:
            master = await self._master_for_today()
        except BrokerError as exc:
            log.warning("mstock: instrument master unavailable for key lookup: %s", exc.message)
            return _fallback_key
        return master.key_for

    async def _mapped(
        self, rows: list[dict[str, Any]], to_model: mapping.RowMapper[_T]
    ) -> list[_T]:
        if not rows:
            return []
        key_for = await self._key_for()
        return [to_model(row, key_for) for row in rows]

    async def _report(
        self, method: str, path: str, what: str, json: Any = None
    ) -> list[dict[str, Any]]:
        return _rows(await self._call(method, CallKind.REPORTS, path, what=what, json=json))

    async def _book_rows(self) -> list[dict[str, Any]]:
        return await self._report("GET", PATH_ORDER_BOOK, "order book")

    async def _details(self, order_id: str) -> dict[str, Any] | None:
        rows = await self._report(
            "POST", PATH_ORDER_DETAILS, "order details", json={"order_no": order_id}
        )
        return next((r for r in rows if str(r.get("orderid", order_id)).strip() == order_id), None)

    async def _tag_of(self, order_id: str) -> str:
        """Our tag for an order in the book: remembered, or asked of order details once (the
        book has no `ordertag`, ref §4.5). A details call that fails leaves it for next time."""
        if order_id in self._tags:
            return self._tags[order_id]
        try:
            row = await self._details(order_id)
        except (BrokerUnavailable, BrokerRejected) as exc:
            log.info("mstock: order details for %s unavailable (%s)", order_id, exc.message)
            return ""
        tag = str(row.get("ordertag") or "").strip() if row else ""
        self._remember(order_id, tag)
        return tag

    async def _book_order(self, row: Mapping[str, Any], key_for: mapping.KeyFor) -> Order:
        """A book row (polled or pushed by the feed) -> Order, with our tag. The tag goes into
        the row (`order_from_row` prefers it to none) rather than beside it, so the memo tells
        a row with our tag from the same row without it."""
        order_id = str(row.get("orderid") or "").strip()
        tag = await self._tag_of(order_id) if order_id else ""
        return self._order_rows({**row, "ordertag": tag} if tag else row, key_for)

    async def orders(self) -> list[Order]:
        rows = await self._book_rows()
        if not rows:
            return []
        key_for = await self._key_for()
        return [await self._book_order(row, key_for) for row in rows]

    async def stream_orders(
        self,
        on_update: Callable[[Order], Awaitable[None]],
        *,
        settings: FeedSettings | None = None,
    ) -> None:
        """`brokers.base.StreamsOrders`: run the ticker websocket's order updates until
        cancelled. Without a session it waits for the account to log in; a re-login (new JWT)
        makes it reconnect with the new one. Frames are read like order-book rows
        (`_book_order`). `settings` tunes the feed's timing (tests shrink it)."""

        async def to_order(row: Mapping[str, Any]) -> Order:
            return await self._book_order(row, await self._key_for())

        feed = MStockOrderFeed(
            lambda: self._session,
            to_order,
            url=self._config.ws_url,
            api_key=self._config.api_key,
            settings=settings,
        )
        await feed.run(on_update)

    async def order(self, order_id: str) -> Order:
        """One order from order details (ref §4.6); OrderNotFound when mStock has none."""
        row = await self._details(order_id)
        if row is None:
            raise OrderNotFound(f"mStock has no order {order_id}")
        return mapping.order_from_row(row, await self._key_for(), self._tags.get(order_id, ""))

    async def trades(self) -> list[Trade]:
        rows = await self._report("GET", PATH_TRADE_BOOK, "trade book")
        return await self._mapped(rows, mapping.trade_from_row)

    async def positions(self) -> list[Position]:
        rows = await self._report("GET", PATH_POSITIONS, "positions")
        positions = await self._mapped(rows, mapping.position_from_row)
        return [p for p in positions if p.quantity or p.realized_pnl]

    async def holdings(self) -> list[Holding]:
        rows = await self._report("GET", PATH_HOLDINGS, "holdings")
        return await self._mapped(rows, mapping.holding_from_row)

    async def funds(self) -> Funds:
        body = await self._call("GET", CallKind.REPORTS, PATH_FUNDS, what="funds")
        return mapping.funds_from_rows(data_of(body))

    async def check_margin(self, request: OrderRequest) -> MarginCheck:
        """`brokers.base.ChecksMargin` from `margins/orders` (ref §5.5): the required margin is
        `summary.total_charges`. The reply has no available figure and no verdict, so the
        available cash comes from the fund summary and `ok` is "required ≤ available": the
        card's guide, not the RMS's decision (which comes with the place)."""
        body = await self._call(
            "POST",
            CallKind.REPORTS,
            PATH_MARGIN,
            what="margin check",
            json=mapping.margin_body(request),
        )
        required = mapping.margin_required(data_of(body))
        available = (await self.funds()).available
        return MarginCheck(required=required, available=available, ok=required <= available)

    # ------------------------------------------------------------------ market data

    async def quotes(self, instruments: Sequence[Instrument]) -> dict[str, Quote]:
        """Quotes in batches of at most `QUOTE_BATCH` tokens (ref §6.1), grouped by exchange.
        Tokens in `unfetched`, absent, or with a zero/null LTP have no LTP (None)."""
        wanted: dict[tuple[str, str], list[str]] = {}
        for instrument in instruments:
            ref = decode_ref(instrument)
            wanted.setdefault((ref.exchange, ref.token), []).append(instrument.key)
        entries = list(wanted)
        result: dict[str, Quote] = {}
        for start in range(0, len(entries), QUOTE_BATCH):
            tokens: dict[str, list[str]] = {}
            for exchange, token in entries[start : start + QUOTE_BATCH]:
                tokens.setdefault(exchange, []).append(token)
            data = data_of(await self._quote_call({"mode": QUOTE_MODE, "exchangeTokens": tokens}))
            at = self.last_server_date or datetime.now(UTC)
            fetched = data.get("fetched") if isinstance(data, dict) else None
            for element in fetched if isinstance(fetched, list) else ():
                if not isinstance(element, dict):
                    continue
                exchange = str(element.get("exchange") or "").strip().upper()
                token = str(element.get("symbolToken") or "").strip()
                for key in wanted.get((exchange, token), ()):
                    result[key] = mapping.quote_from_row(key, element, at)
        return result

    async def _quote_call(self, body: dict[str, Any]) -> Any:
        """POST (the SDKs' style); a server that does not serve POST here (HTTP 404/405) is
        asked with a GET carrying the same JSON body (the docs' and OpenAlgo's style, ref §6.1),
        and that choice is kept."""
        self._require_session()
        response = await self._send(
            self._quote_method, CallKind.MARKET_DATA, PATH_QUOTE, what="quotes", json=body
        )
        if response.status_code in (404, 405) and self._quote_method == "POST":
            log.info("mstock: quotes answered HTTP %s to POST; using GET", response.status_code)
            self._quote_method = "GET"
            response = await self._send(
                "GET", CallKind.MARKET_DATA, PATH_QUOTE, what="quotes", json=body
            )
        return classify(response, kind=CallKind.MARKET_DATA, what="quotes")

    # ------------------------------------------------------------------ instruments

    async def instruments(self) -> Sequence[Instrument]:
        return (await self._master_for_today()).instruments

    async def resolve(self, key: str) -> Instrument:
        return (await self._master_for_today()).resolve(key)

    def instruments_version(self) -> str:
        """`VersionedInstruments`: one master per IST trading date."""
        return self._master.version()

    @property
    def master_key(self) -> str:
        """Which shared master `instruments()` serves: adapters with the same key (accounts on
        one cache dir) hand out the same list object, so one index serves them all."""
        return self._master.master_key

    async def _master_for_today(self) -> MStockMaster:
        return await self._master.get()

    async def _load_master(self, day: date) -> MStockMaster:
        async def sources() -> dict[str, str]:
            return {"scripmaster": PATH_MASTER}

        files = await self._files.fetch(day, sources, self._download)
        return await asyncio.to_thread(
            build_master, files["scripmaster"], day, self._config.freeze_qty
        )

    async def _download(self, path: str) -> bytes:
        """The master: a bare JSON array with the usual auth headers (ref §6.4). Anything else
        is classified like any reply (an error envelope, garbage)."""
        what = "instrument master"
        self._require_session()
        response = await self._send("GET", CallKind.MASTER, path, what=what)
        if response.status_code == 200 and response.content.lstrip()[:1] == b"[":
            return response.content
        classify(response, kind=CallKind.MASTER, what=what)
        raise BrokerUnavailable(f"mStock {what}: expected a JSON array")
