"""`KotakBroker`: the Kotak Neo Trade API behind the `brokers.base.Broker` protocol.

Every request goes through `_send`, which picks the credential headers for the call kind (ref §2.4),
the timeout for the call class, classifies transport failures (connect/pool timeout: nothing was
sent; read/write timeout on an order call: unknown outcome), and records the server's `Date`. Every
reply then goes through `replies.classify` once. A place is never retried here
(style.md "Absorb" 5). Environment proxy variables are ignored (`trust_env=False`), so the broker is
reached by the same route as the egress-IP check that decides whether orders may leave.
The order-rate slot is taken at the last moment: `pace_order_writes` installs the account's
limiter, which is awaited right before an order request's headers are written (after connecting),
so the time counted is the time the request leaves (`brokers.base.PacesOrderWrites`).
Order updates come from polling `orders()` and, faster, from the `/realtime` order feed
(`stream_orders`, ref §9.1, `feed.py`).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from brokers.errors import (
    AuthError,
    BrokerError,
    BrokerUnavailable,
    OrderNotFound,
    OutcomeCause,
    SessionExpired,
    UnknownOutcome,
)
from brokers.feed_loop import FeedSettings
from brokers.kotak import mapping
from brokers.kotak.auth import TradeSession, headers_for, normalize_mobile
from brokers.kotak.config import KotakConfig
from brokers.kotak.constants import (
    AMO_WINDOWS,
    IST,
    PATH_CANCEL,
    PATH_CHECK_MARGIN,
    PATH_CLIENT_IP,
    PATH_FILE_PATHS,
    PATH_HOLDINGS,
    PATH_LIMITS,
    PATH_LOGIN,
    PATH_MODIFY,
    PATH_ORDER_BOOK,
    PATH_ORDER_HISTORY,
    PATH_PLACE,
    PATH_POSITIONS,
    PATH_POSITIONS_QUICK,
    PATH_QUOTES,
    PATH_TRADE_BOOK,
    PATH_VALIDATE,
    QUOTE_BATCH,
    QUOTE_TYPE,
    SEGMENT_TO_EXCHANGE,
    USER_AGENT,
    CallKind,
)
from brokers.kotak.feed import OrderFeed
from brokers.kotak.master import MasterCache, ScripMaster
from brokers.kotak.replies import (
    NO_DATA,
    classify,
    login_data,
    path_missing,
    raise_if_throttled,
)
from brokers.master_cache import TodaysMaster
from brokers.models import (
    AmoWindow,
    Funds,
    Holding,
    Instrument,
    MarginCheck,
    ModifyRequest,
    Order,
    OrderRequest,
    Position,
    Quote,
    SessionInfo,
    Trade,
)
from brokers.network import send_failure
from brokers.tls import tls_context
from brokers.wire import RowMemo, server_clock, sha256_hex, today_ist
from brokers.writes import OrderWrites

log = logging.getLogger(__name__)

_T = TypeVar("_T")

# The saved session proves it was made with this configuration by a hash of the access token:
# the token itself is a long-lived credential and never goes to disk (issue 10, secrets at rest).
_HASH_FIELD = "access_token_sha256"


def _fallback_key(segment: str, token: str, trading_symbol: str) -> str:
    exchange = SEGMENT_TO_EXCHANGE.get(segment, segment.upper())
    return f"{exchange}:{trading_symbol or token}"


def _rows(body: Any) -> list[dict[str, Any]]:
    if body is NO_DATA:
        return []
    data = body.get("data") if isinstance(body, dict) else body
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        return []
    return [row for row in data if isinstance(row, dict)]


class KotakBroker:
    """Kotak Neo adapter. Not thread-safe; one instance per account, used from one event loop.

    Extras outside the protocol, for the account: `client_ip()`, `last_server_date`
    (from the HTTP `Date` header, for clock-skew checks), `session_created_at`, `resolve(key)`,
    `order(order_id)`, `order_history(order_id)` and `check_margin(request)`.
    """

    name = "kotak"
    quote_batch_limit = QUOTE_BATCH  # brokers.base.LimitsQuoteBatch
    instruments_before_login = True  # brokers.base.ListsInstrumentsBeforeLogin

    def __init__(
        self,
        config: KotakConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        today: Callable[[], date] | None = None,
    ) -> None:
        self._config = config
        self._http = httpx.AsyncClient(
            transport=transport,
            headers={"User-Agent": USER_AGENT},
            trust_env=False,
            verify=tls_context(),
        )
        self._writes = OrderWrites()
        self._session: TradeSession | None = None
        self._master = TodaysMaster[ScripMaster](
            today or (lambda: today_ist()),  # tests move the trading day on; None: IST today
            lambda day: self._cache.load(day, self._master_files, self._download),
            # Accounts on one cache dir share the day's master (`TodaysMaster`).
            kind=f"kotak:{','.join(config.segments)}",
            cache_dir=config.cache_dir,
        )
        self._cache = MasterCache(config.cache_dir, config.segments)
        # The order book's rows mapped once each: the tracker reads the book every few seconds.
        self._order_rows = RowMemo(mapping.order_from_row)
        self.last_server_date: datetime | None = None
        # Kotak's clock minus ours, from the last Date header (1 s resolution): TOTP logins
        # fail when this grows past a few seconds.
        self.clock_skew_seconds: float | None = None
        self.session_created_at: datetime | None = None
        # baseUrl -> the positions path that server answers (ref §6.1: v2 or /quick).
        self._positions_paths: dict[str, str] = {}
        # Order numbers of the AMOs placed here: their modify and cancel carry `am: YES` too
        # (ref §4.2, §4.3), and the order book does not say reliably which orders are AMOs.
        self._amo_orders: set[str] = set()

    def __repr__(self) -> str:
        return f"KotakBroker(ucc={self._config.ucc!r}, logged_in={self._session is not None})"

    # ------------------------------------------------------------------ transport

    def _timeout(self, kind: CallKind) -> httpx.Timeout:
        t = self._config.timeouts
        return {
            CallKind.LOGIN: t.login,
            CallKind.VALIDATE: t.login,
            CallKind.CLIENT_IP: t.reports,
            CallKind.ORDERS: t.orders,
            CallKind.REPORTS: t.reports,
            CallKind.MARKET_DATA: t.market_data,
            CallKind.CDN: t.master,
        }[kind]

    def pace_order_writes(self, pace: Callable[[], Awaitable[None]]) -> None:
        """`brokers.base.PacesOrderWrites`: await `pace` right before each place/modify/cancel
        request is written, so a rate slot is counted when the request leaves, not earlier."""
        self._writes.pace = pace

    def _require_session(self) -> TradeSession:
        if self._session is None:
            raise SessionExpired("Kotak: not logged in")
        return self._session

    def _market_base(self) -> str:
        # Market data needs only the access token and works before login on the login host
        # (ref §1 "Default REST base before baseUrl is known").
        return self._session.base_url if self._session else self._config.login_url.rstrip("/")

    async def _send(
        self,
        method: str,
        kind: CallKind,
        url: str,
        *,
        what: str,
        json: Any = None,
        form: dict[str, str] | None = None,
        view: tuple[str, str] | None = None,
    ) -> httpx.Response:
        headers = headers_for(
            kind, access_token=self._config.access_token, session=self._session, view=view
        )
        started = asyncio.get_running_loop().time()
        try:
            response = await self._http.request(
                method,
                url,
                headers=headers,
                json=json,
                data=form,
                timeout=self._timeout(kind),
                follow_redirects=kind is CallKind.CDN,  # never carry Auth/Sid across a redirect
                extensions=self._writes.extensions() if kind is CallKind.ORDERS else None,
            )
        except httpx.TransportError as exc:
            host = httpx.URL(url).host
            raise send_failure(
                exc,
                broker="Kotak",
                what=what,
                host=host,
                order_call=kind is CallKind.ORDERS,
                log=log,
            ) from None
        self._note_date(response)
        elapsed_ms = (asyncio.get_running_loop().time() - started) * 1000
        log.debug(
            "kotak %s %s -> HTTP %s in %.0f ms", method, what, response.status_code, elapsed_ms
        )
        return response

    def _note_date(self, response: httpx.Response) -> None:
        clock = server_clock(response.headers.get("Date"))
        if clock is None:
            return
        self.last_server_date, skew = clock
        if skew is not None:
            self.clock_skew_seconds = skew

    async def _call(
        self,
        method: str,
        kind: CallKind,
        path: str,
        *,
        what: str,
        base: str | None = None,
        form: dict[str, str] | None = None,
        empty_ok: bool = False,
        not_found_ok: bool = False,
        place: bool = False,
    ) -> Any:
        if base is None:
            base = self._require_session().base_url
        response = await self._send(method, kind, base + path, what=what, form=form)
        return classify(
            response,
            kind=kind,
            what=what,
            empty_ok=empty_ok,
            not_found_ok=not_found_ok,
            place=place,
        )

    # ------------------------------------------------------------------ session

    async def login(self, otp: str | None = None) -> SessionInfo:
        """tradeApiLogin (TOTP) then tradeApiValidate (MPIN), ref §2.1-2.2."""
        if not otp:
            raise AuthError("Kotak login needs the current TOTP code")
        cfg = self._config
        login_url = cfg.login_url.rstrip("/")
        body = {"mobileNumber": normalize_mobile(cfg.mobile), "ucc": cfg.ucc, "totp": str(otp)}
        response = await self._send(
            "POST", CallKind.LOGIN, login_url + PATH_LOGIN, what="login (TOTP)", json=body
        )
        view = login_data(response, step="TOTP")
        response = await self._send(
            "POST",
            CallKind.VALIDATE,
            login_url + PATH_VALIDATE,
            what="login (MPIN)",
            json={"mpin": cfg.mpin},
            view=(str(view["token"]), str(view["sid"])),
        )
        trade = login_data(response, step="MPIN")
        created = datetime.now(IST)
        self._session = TradeSession(
            token=str(trade["token"]),
            sid=str(trade["sid"]),
            base_url=str(trade.get("baseUrl") or login_url).rstrip("/"),
            data_center=str(trade.get("dataCenter") or ""),
            ucc=str(trade.get("ucc") or cfg.ucc),
            created_at=created,
            feed_url=str(trade.get("feedUrl") or ""),
            rt_url=str(trade.get("rtUrl") or ""),
        )
        self.session_created_at = created
        log.info(
            "kotak: session created for %s (data centre %s)",
            self._session.ucc,
            self._session.data_center or "?",
        )
        return SessionInfo(account=self._session.ucc, created_at=created)

    def export_session(self) -> dict[str, str] | None:
        """Today's session (ref §2.6), as strings; None when logged out. The account stores
        this owner-only. It holds the session's own tokens (secrets: never log it) but not the
        access token, a long-lived credential: only its SHA-256, so `resume_session` can tell
        that the session was made with the configured one."""
        s = self._session
        if s is None:
            return None
        data = {
            _HASH_FIELD: sha256_hex(self._config.access_token),
            "token": s.token,
            "sid": s.sid,
            "base_url": s.base_url,
            "data_center": s.data_center,
            "ucc": s.ucc,
            "created_at": s.created_at.isoformat(),
        }
        if s.feed_url:
            data["feed_url"] = s.feed_url
        if s.rt_url:
            data["rt_url"] = s.rt_url
        return data

    async def resume_session(self, data: dict[str, str]) -> SessionInfo:
        """Adopt a session saved by `export_session` without logging in. Nothing is sent: the
        supervisor proves the tokens with a read. Raises SessionExpired (never echoing a value)
        when the saved data is incomplete or does not belong to this configuration. A file from
        before the hash (it held the access token itself) is not resumed: the login that follows
        writes the new form over it."""

        def text(key: str, *, required: bool = True) -> str:
            value = data.get(key, "")
            if not isinstance(value, str) or (required and not value.strip()):
                raise SessionExpired("saved session is incomplete")
            return value.strip()

        if _HASH_FIELD not in data and "access_token" in data:
            raise SessionExpired("saved session is in an old format")
        token_hash = text(_HASH_FIELD)
        token, sid, base_url, ucc = text("token"), text("sid"), text("base_url"), text("ucc")
        data_center = text("data_center", required=False)
        feed_url, rt_url = text("feed_url", required=False), text("rt_url", required=False)
        try:
            created = datetime.fromisoformat(text("created_at"))
        except ValueError:
            raise SessionExpired("saved session is incomplete") from None
        if created.tzinfo is None:
            raise SessionExpired("saved session is incomplete")
        if not base_url.startswith(("https://", "http://")):
            raise SessionExpired("saved session is incomplete")
        if not hmac.compare_digest(token_hash, sha256_hex(self._config.access_token)):
            raise SessionExpired("saved session was made with a different access token")
        if ucc.casefold() != self._config.ucc.strip().casefold():
            raise SessionExpired("saved session belongs to a different account")
        self._session = TradeSession(
            token=token,
            sid=sid,
            base_url=base_url.rstrip("/"),
            data_center=data_center,
            ucc=ucc,
            created_at=created,
            feed_url=feed_url,
            rt_url=rt_url,
        )
        self.session_created_at = created
        log.info("kotak: resumed the saved session for %s from %s", ucc, created.isoformat())
        return SessionInfo(account=ucc, created_at=created)

    async def close(self) -> None:
        """Forget the session (Kotak has no logout call, ref §2.6) and close connections."""
        self._session = None
        await self._cache.close()
        await self._http.aclose()

    async def client_ip(self) -> str | None:
        """The IP Kotak sees, from `get-client-ip` on the login host (ref §7.3). Whether it is the
        caller's current IP or the session's login IP is unconfirmed (rules.md §1.3)."""
        self._require_session()
        body = await self._call(
            "GET",
            CallKind.CLIENT_IP,
            PATH_CLIENT_IP,
            what="client ip",
            base=self._config.login_url.rstrip("/"),
        )
        rows = _rows(body)
        ip = rows[0].get("ip") if rows else None
        return str(ip) if ip else None

    # ------------------------------------------------------------------ orders

    async def place_order(self, request: OrderRequest) -> str:
        """Place one order with our tag in `ig`. Never retried: a timeout raises UnknownOutcome,
        a tag Kotak has seen before raises DuplicateTag (that order exists)."""
        fields = mapping.place_fields(request)
        log.info(
            "kotak place: tag=%s %s %s %s x%d",
            request.tag,
            request.side.value,
            request.instrument.key,
            request.order_type.value,
            request.quantity,
        )
        body = await self._call(
            "POST",
            CallKind.ORDERS,
            PATH_PLACE,
            what="place order",
            form=mapping.jdata(fields),
            place=True,
        )
        order_id = str(body.get("nOrdNo") or "")
        if not order_id:
            raise UnknownOutcome(
                "Kotak place order: accepted without an order number; check the order book by tag",
                cause=OutcomeCause.BAD_REPLY,
            )
        log.info("kotak placed: tag=%s order=%s", request.tag, order_id)
        if request.amo:
            self._amo_orders.add(order_id)
        return order_id

    def amo_window(self, exchange: str) -> AmoWindow | None:
        """`brokers.base.TakesAfterMarketOrders`: Kotak takes AMOs with `am: YES`."""
        return AMO_WINDOWS.get(exchange)

    async def modify_order(self, request: ModifyRequest) -> str:
        amo = request.amo or request.order_id in self._amo_orders
        fields = mapping.modify_fields(request, amo=amo)
        body = await self._call(
            "POST", CallKind.ORDERS, PATH_MODIFY, what="modify order", form=mapping.jdata(fields)
        )
        return str(body.get("nOrdNo") or request.order_id)

    async def cancel_order(self, order_id: str, *, amo: bool = False) -> str:
        amo = amo or order_id in self._amo_orders
        body = await self._call(
            "POST",
            CallKind.ORDERS,
            PATH_CANCEL,
            what="cancel order",
            form=mapping.jdata(mapping.cancel_fields(order_id, amo=amo)),
        )
        return str(body.get("nOrdNo") or order_id)

    # ------------------------------------------------------------------ reports

    async def _key_for(self) -> mapping.KeyFor:
        """Book rows carry `exSeg`/`tok`/`trdSym`; our keys come from the master. If the master
        cannot be loaded, fall back to `EXCH:pTrdSymbol` rather than failing the read."""
        try:
            master = await self._master_for_today()
        except BrokerError as exc:
            log.warning("kotak: scrip master unavailable for key lookup: %s", exc.message)
            return _fallback_key
        return master.key_for

    async def _mapped(self, body: Any, to_model: mapping.RowMapper[_T]) -> list[_T]:
        """A report's rows -> models; the master (for keys) is loaded only when there are rows."""
        rows = _rows(body)
        if not rows:
            return []
        key_for = await self._key_for()
        return [to_model(row, key_for) for row in rows]

    async def _book(
        self,
        method: str,
        path: str,
        what: str,
        to_model: mapping.RowMapper[_T],
        *,
        form: dict[str, str] | None = None,
        one_order: bool = False,
    ) -> list[_T]:
        """Read one report and map its rows. 5203 "No Data" is an empty list, or OrderNotFound
        when the report is about `one_order` (a single order or its history)."""
        body = await self._call(
            method,
            CallKind.REPORTS,
            path,
            what=what,
            form=form,
            empty_ok=not one_order,
            not_found_ok=one_order,
        )
        return await self._mapped(body, to_model)

    async def orders(self) -> list[Order]:
        return await self._book("GET", PATH_ORDER_BOOK, "order book", self._order_rows)

    async def order(self, order_id: str) -> Order:
        """One order from `GET /quick/user/orders/<nOrdNo>` (ref §5); OrderNotFound on 5203."""
        path = f"{PATH_ORDER_BOOK}/{quote(order_id, safe='')}"
        found = await self._book("GET", path, "order", mapping.order_from_row, one_order=True)
        if not found:
            raise OrderNotFound(f"Kotak has no order {order_id}")
        return found[0]

    async def order_history(self, order_id: str) -> list[Order]:
        """Every state row of one order, newest first (ref §5)."""
        return await self._book(
            "POST",
            PATH_ORDER_HISTORY,
            "order history",
            mapping.order_from_row,
            form=mapping.jdata({"nOrdNo": order_id}),
            one_order=True,
        )

    async def trades(self) -> list[Trade]:
        return await self._book("GET", PATH_TRADE_BOOK, "trade book", mapping.trade_from_row)

    async def positions(self) -> list[Position]:
        return await self._mapped(await self._positions_body(), mapping.position_from_row)

    async def _positions_body(self) -> Any:
        """Positions from whichever path this server serves (ref §6.1). The first call on a
        baseUrl tries SDK 3.0.9's `/portfolio/v2/positions`; if the server says the path does not
        exist (HTTP 404/405, `replies.path_missing`) it uses `/quick/user/positions`. Either way
        the answer is remembered per baseUrl, so later calls (also after a re-login to the same
        data centre) go straight to the working path without probing again. Any other reply from
        v2, including errors (403, 5xx, throttling), is classified as usual and decides nothing.
        Both paths return the same row shape and the same 5203 for an empty list."""
        base = self._require_session().base_url
        path = self._positions_paths.get(base)
        if path is None:
            response = await self._send(
                "GET", CallKind.REPORTS, base + PATH_POSITIONS, what="positions"
            )
            if not path_missing(response):
                body = classify(response, kind=CallKind.REPORTS, what="positions", empty_ok=True)
                self._positions_paths[base] = PATH_POSITIONS
                return body
            log.info(
                "kotak: %s answered HTTP %s; using %s on this server from now on",
                PATH_POSITIONS,
                response.status_code,
                PATH_POSITIONS_QUICK,
            )
            path = self._positions_paths[base] = PATH_POSITIONS_QUICK
        return await self._call("GET", CallKind.REPORTS, path, what="positions", empty_ok=True)

    async def holdings(self) -> list[Holding]:
        return await self._book("GET", PATH_HOLDINGS, "holdings", mapping.holding_from_row)

    async def funds(self) -> Funds:
        body = await self._call(
            "POST",
            CallKind.REPORTS,
            PATH_LIMITS,
            what="funds",
            form=mapping.jdata({"seg": "ALL", "exch": "ALL", "prod": "ALL"}),
        )
        return mapping.funds_from_limits(body)

    async def check_margin(self, request: OrderRequest) -> MarginCheck:
        """Ask Kotak's RMS whether `request` would pass, without placing it (ref §6.4).

        `POST /quick/user/check-margin` with jData from `mapping.margin_fields` (the SDK 3.0.9 keys,
        `trgPrc` null unless SL, the six bracket keys null). It is a read: Auth + Sid only, no
        `Authorization` (ref §2.4), and session errors (HTTP 403, stCode 100022) raise
        SessionExpired like any other report. The verdict rule (`rmsVldtd == "OK"` and
        `insufFund == 0`) and which fields carry required/available margin are documented on
        `mapping.margin_from_reply`. Indices and SL-M are refused before sending, as on place.
        """
        fields = mapping.margin_fields(request)
        body = await self._call(
            "POST",
            CallKind.REPORTS,
            PATH_CHECK_MARGIN,
            what="margin check",
            form=mapping.jdata(fields),
        )
        if not isinstance(body, dict):
            raise BrokerUnavailable("Kotak margin check: unexpected reply shape")
        return mapping.margin_from_reply(body)

    async def stream_orders(
        self,
        on_update: Callable[[Order], Awaitable[None]],
        *,
        settings: FeedSettings | None = None,
    ) -> None:
        """`brokers.base.StreamsOrders`: run the `/realtime` order feed until cancelled.

        Without a session it waits for the account to log in instead of failing; a re-login
        (new token/sid) makes it reconnect with the new pair. Frames are read with the order
        book's own `mapping.order_from_row`, since the feed uses the book's vocabulary (ref §9.1).
        `settings` tunes the feed's timing (tests shrink it)."""

        async def to_order(row: Mapping[str, Any]) -> Order:
            return mapping.order_from_row(row, await self._key_for())

        await OrderFeed(lambda: self._session, to_order, settings).run(on_update)

    # ------------------------------------------------------------------ market data

    async def quotes(self, instruments: Sequence[Instrument]) -> dict[str, Quote]:
        """Quotes in batches of at most 50 (ref §7.1). `|` and `,` stay literal in the path;
        index names are percent-encoded (`Nifty%2050`). Instruments absent from the reply are
        absent from the result; a zero or blank LTP is None."""
        wanted: dict[tuple[str, str], list[str]] = {}
        for instrument in instruments:
            wanted.setdefault(mapping.quote_path_entry(instrument), []).append(instrument.key)
        entries = list(wanted)
        result: dict[str, Quote] = {}
        for start in range(0, len(entries), QUOTE_BATCH):
            batch = entries[start : start + QUOTE_BATCH]
            listing = ",".join(f"{seg}|{quote(token, safe='')}" for seg, token in batch)
            body = await self._call(
                "GET",
                CallKind.MARKET_DATA,
                f"{PATH_QUOTES}/{listing}/{QUOTE_TYPE}",
                what="quotes",
                base=self._market_base(),
            )
            elements = body if isinstance(body, list) else _rows(body)
            for element in elements:
                if not isinstance(element, dict):
                    continue
                seg = str(element.get("exchange") or "").strip()
                token = str(element.get("exchange_token") or "").strip()
                keys = wanted.get((seg, token))
                if keys is None:
                    keys = wanted.get((seg, str(element.get("display_symbol") or "").strip()))
                for key in keys or ():
                    result[key] = mapping.quote_from_row(key, element)
        return result

    # ------------------------------------------------------------------ instruments

    async def instruments(self) -> Sequence[Instrument]:
        return (await self._master_for_today()).instruments

    async def resolve(self, key: str) -> Instrument:
        """`NFO:NIFTY30DEC2524000CE` -> Instrument; InstrumentNotFound with close matches."""
        return (await self._master_for_today()).resolve(key)

    def instruments_version(self) -> str:
        """`VersionedInstruments`: one scrip master per IST trading date."""
        return self._master.version()

    @property
    def master_key(self) -> str:
        """Which shared master `instruments()` serves: adapters with the same key (accounts on
        one cache dir) hand out the same list object, so one index serves them all."""
        return self._master.master_key

    async def _master_for_today(self) -> ScripMaster:
        return await self._master.get()

    async def _master_files(self) -> list[str]:
        body = await self._call(
            "GET",
            CallKind.MARKET_DATA,
            PATH_FILE_PATHS,
            what="scrip master file list",
            base=self._market_base(),
        )
        data = body.get("data") if isinstance(body, dict) else None
        paths = data.get("filesPaths") if isinstance(data, dict) else None
        if not isinstance(paths, list):
            raise BrokerUnavailable("Kotak scrip master file list: unexpected reply shape")
        return [str(p) for p in paths]

    async def _download(self, url: str) -> bytes:
        """CSV from the CDN: no credentials (ref §7.2), redirects followed."""
        what = "scrip master download"
        response = await self._send("GET", CallKind.CDN, url, what=what)
        raise_if_throttled(response, what)
        if response.status_code != 200:
            raise BrokerUnavailable(
                f"Kotak {what}: HTTP {response.status_code}", code=str(response.status_code)
            )
        return response.content
