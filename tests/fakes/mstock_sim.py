"""An mStock Type B API simulator on loopback (aiohttp.web), with mStock's real wire shapes.

Shapes and quirks follow `shared/reference/mstock-typeb.md` (ref §n), checklist §11:
- headers: `X-Mirae-Version: 1` on everything (else VersionException), `X-PrivateKey` on all but
  `connect/login` (else IA403 "API is suspended/expired"), `Authorization: Bearer <jwt>` on all
  but the login steps (else IA401); `Content-Type` on GETs is ignored (`None` included);
- `status` as the pages write it: the string "true"/"false" on most, boolean on verifytotp,
  fund summary and errors of the session pages, "error" with `error_type` on verifytotp
  failures; `errorcode` always present on a "false" body;
- place, modify and cancel replies wrapped in a one-element list (`wrap_orders`, on by default:
  the live server does it on place, [OA]); a modified order id comes back with a leading space;
- GET with a JSON body and POST both served for quotes, order details (and place);
  DELETE with a JSON body for cancel;
- the static-IP refusal: IA403 "Primary and Secondary IP Address are not matching with current
  IP address." when `egress_ip` is not among `registered_ips` (per API key, ref §9), on the
  kinds in `ip_checked` (orders by default; add "quote" etc. to check data calls too);
- sessions end at `session_end` (settable; default midnight IST of the login day) with IA401;
- order state (open, traded, cancelled, rejected), lot sizes and ticks enforced; the tag must
  be < 20 letters and digits (ref §4.1) and is shown by order details only (ref §4.5-§4.6);
- the master: a bare JSON array with strike and tick in rupees (ref §6.4).

Test controls:
    sim.expected_totp = "123456" | callable(code) -> bool; sim.password; sim.api_key
    sim.egress_ip = "198.51.100.7"; sim.registered_ips = {...}; sim.ip_checked = {...}
    sim.expire_sessions(); sim.session_end = datetime | None
    sim.fail_next(kind, mode)  # timeout, http500, html, malformed, throttle,
                               #   expired_after (the order IS made, then IA401)
    sim.set_ltp(key, value, *, unfetched=False); sim.fill(order_id); sim.reject(order_id, text)
    sim.quote_methods = {"POST", "GET"}   # drop one to answer it 405
    sim.calls  # list[SimCall]: method, path, kind, headers (lower-case), json, ip, query

Ticker websocket (ref §7, §11 item 8) on the same port at `/` (`sim.ws_url`): the upgrade must
carry `?API_KEY=<key>&ACCESS_TOKEN=<live jwt>` (else HTTP 401, "connection rejected"); the first
text frame must be `LOGIN:<the same jwt>` (else the socket is closed); the ack is a text frame
(`feed_ack`). Then every order state change (place, modify, cancel, fill, reject) is pushed as
an order-update text frame whose payload is the order-book row:
    sim.feed_shape = "python" | "node"  # {"order_status":"order","orderData":row} (Python SDK)
                                        # or {"type":"order","data":row} (Node SDK)
    sim.feed_refuse = True          # answer every upgrade HTTP 503 (the host is down)
    sim.feed_silent = True          # accept the login but never ack or push
    sim.drop_feeds()                # close every ticker connection (server side)
    sim.push_feed(text_bytes_or_object)  # one extra frame to every logged-in connection
    sim.feed_connections; sim.open_feeds; sim.feed_logins  # list[SimTickerLogin]
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from email.utils import format_datetime
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.ws_feed import FeedControls, SimFeeds

IST = timezone(timedelta(hours=5, minutes=30))
SIM_TOTP = "482913"
MODES = ("timeout", "http500", "html", "malformed", "throttle", "expired_after")
IP_REFUSAL = "Primary and Secondary IP Address are not matching with current IP address."
KEY_REFUSAL = "API is suspended/expired for use. Please check your API subscription and try again."
SESSION_REFUSAL = "Invalid request. Please try again."
LOT_REFUSAL = "Quantity should be in multiple of lot size"
TICK_REFUSAL = "Price should be in multiple of tick size"
CANCELLED_TEXT = "Order is Cancelled.Kindly refresh your OrderBook"
FEED_ACK = '{"status":"success","message":"Login successful"}'  # undocumented (ref §13 q. 4)
_TAG = re.compile(r"[A-Za-z0-9]{0,19}")

_ROUTES: dict[tuple[str, str], str] = {
    ("POST", "/openapi/typeb/connect/login"): "login",
    ("POST", "/openapi/typeb/session/verifytotp"): "verifytotp",
    ("POST", "/openapi/typeb/orders/regular"): "place",
    ("GET", "/openapi/typeb/orders/regular"): "place",
    ("GET", "/openapi/typeb/orders"): "orders",
    ("POST", "/openapi/typeb/order/details"): "details",
    ("GET", "/openapi/typeb/order/details"): "details",
    ("GET", "/openapi/typeb/tradebook"): "trades",
    ("GET", "/openapi/typeb/portfolio/positions"): "positions",
    ("GET", "/openapi/typeb/portfolio/holdings"): "holdings",
    ("GET", "/openapi/typeb/user/fundsummary"): "funds",
    ("PUT", "/openapi/typeb/user/fundsummary"): "funds",
    ("POST", "/openapi/typeb/margins/orders"): "margin",
    ("POST", "/openapi/typeb/instruments/quote"): "quote",
    ("GET", "/openapi/typeb/instruments/quote"): "quote",
    ("GET", "/openapi/typeb/instruments/OpenAPIScripMaster"): "master",
}
_ORDER_PATH = "/openapi/typeb/orders/regular/"
ORDER_KINDS = frozenset({"place", "modify", "cancel"})
LOGIN_KINDS = frozenset({"login", "verifytotp"})


@dataclass
class SimCall:
    method: str
    path: str
    kind: str
    headers: dict[str, str]
    json: Any = None
    ip: str = ""
    at: float = field(default_factory=time.monotonic)
    query: dict[str, str] = field(default_factory=dict)


@dataclass
class SimTickerLogin:
    """One ticker connection's login: `outcome` "acked", "refused" (closed), "silent" or
    "rejected" (the upgrade's query was refused with HTTP 401); `jwt` the query's token."""

    outcome: str
    jwt: str


@dataclass
class SimInstrument:
    token: str
    name: str  # the trading symbol orders carry (`SBIN-EQ`)
    exch_seg: str  # NSE, NFO, BSE, BFO
    key: str  # ours, for tests: NSE:SBIN, NFO:NIFTY30DEC2524000CE
    symbol: str
    itype: str  # EQ, OPTIDX, FUTSTK...
    lot: int
    tick: Decimal
    expiry: str = ""
    strike: str = ""


@dataclass
class SimOrder:
    order_id: str
    inst: SimInstrument
    side: str
    qty: int
    ordertype: str
    price: Decimal
    trigger: Decimal
    product: str
    variety: str
    tag: str
    status: str = "Pending"
    filled: int = 0
    avg: Decimal = Decimal(0)
    text: str = "CONFIRMED"
    updated: datetime = field(default_factory=lambda: datetime.now(IST))


def fake_jwt(subject: str, expires: datetime) -> str:
    """A JWT-shaped token (ref §2.5 sample payload) whose `exp` says when it ends."""

    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    now = int(time.time())
    claims = {"USERNAME": subject, "APITYPE": "AGL", "nbf": now, "iat": now}
    claims["exp"] = int(expires.timestamp())
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.{uuid.uuid4().hex}"


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _stamp(day: date) -> str:
    return f"{day:%d}{day:%b}{day:%y}".upper()


def last_tuesday(year: int, month: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    last = first_next - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - 1) % 7)


class MStockSimulator(FeedControls):
    """See the module docstring for the controls."""

    def __init__(
        self,
        *,
        client_code: str = "MA123456",
        api_key: str = "mskey-7d41c0ffee",
        password: str = "Trade#Pass1",  # noqa: S107 - fake credential
        expected_totp: str | Callable[[str], bool] = SIM_TOTP,
        today: date | None = None,
        hang_seconds: float = 5.0,
    ) -> None:
        self.client_code = client_code
        self.api_key = api_key
        self.password = password
        self.expected_totp = expected_totp
        self.today = today or datetime.now(IST).date()
        self.hang_seconds = hang_seconds
        self.egress_ip = "203.0.113.10"
        self.registered_ips: dict[str, set[str]] = {api_key: {"203.0.113.10", "203.0.113.11"}}
        self.ip_checked: set[str] = set(ORDER_KINDS)
        self.session_end: datetime | None = None  # None: midnight IST of the login day
        self.wrap_orders = True
        self.quote_methods = {"POST", "GET"}
        self.calls: list[SimCall] = []
        self.orders: dict[str, SimOrder] = {}
        self.trades: list[dict[str, Any]] = []
        self.holdings: list[dict[str, Any]] = [
            {
                "tradingsymbol": "STATE BANK OF INDIA",
                "exchange": None,
                "isin": "INE062A01020",
                "t1quantity": 0,
                "realisedquantity": 10,
                "quantity": 10,
                "authorisedquantity": 0,
                "product": None,
                "collateralquantity": None,
                "collateraltype": None,
                "haircut": 0,
                "averageprice": 700.5,
                "ltp": 812.35,
                "symboltoken": "3045",
                "close": 810.0,
                "profitandloss": 1118,
                "pnlpercentage": 15.97,
            }
        ]
        self.funds: dict[str, str] = {
            "AVAILABLE_BALANCE": "100000.00",
            "AMOUNT_UTILIZED": "12500.50",
            "COLLATERALS": "5000.00",
            "LIMIT_SOD": "112500.50",
            "REALISED_PROFITS": "0.00",
            "MTM_COMBINED": "0.00",
            "LIMIT_TYPE": "CAPITAL",
            "SEG": "A",
        }
        self._requests: set[str] = set()
        self._sessions: dict[str, datetime] = {}  # jwt -> end
        self._fail: list[tuple[str, str]] = []
        self._seq = 0
        self._trade_seq = 0
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.instruments: dict[str, SimInstrument] = {}  # our key -> instrument
        self._by_token: dict[tuple[str, str], SimInstrument] = {}
        self._ltp: dict[str, Decimal | None] = {}
        self._unfetched: set[str] = set()
        self.master: list[dict[str, str]] = []
        self.feed_shape = "python"
        self.feed_refuse = False
        self.feed_silent = False
        self.feed_ack = FEED_ACK
        self.feed_logins: list[SimTickerLogin] = []
        self._feeds = SimFeeds()
        self._build_master()

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/", self._on_ticker)  # before the catch-all
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        self._stopping.set()
        self.drop_feeds()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> MStockSimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ controls

    def calls_of(self, kind: str) -> list[SimCall]:
        return [c for c in self.calls if c.kind == kind]

    def expire_sessions(self) -> None:
        self._sessions.clear()

    def _touch(self, order: SimOrder) -> None:
        """An order changed state: stamp it and push its book row to the ticker sockets."""
        order.updated = datetime.now(IST)
        row = self._order_row(order)
        if self.feed_shape == "node":
            self.push_feed({"type": "order", "data": row})
        else:
            self.push_feed({"order_status": "order", "orderData": row})

    def fail_next(self, kind: str, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self._fail.append((kind, mode))

    def set_ltp(self, key: str, value: Any, *, unfetched: bool = False) -> None:
        """`value` None -> quoted with ltp 0 (not traded); `unfetched` lists it under
        `unfetched` instead of `fetched` (ref §6.1)."""
        self._ltp[key] = None if value is None else Decimal(str(value))
        if unfetched:
            self._unfetched.add(key)
        else:
            self._unfetched.discard(key)

    def fill(self, order_id: str, price: Any = None) -> None:
        order = self.orders[order_id]
        qty = order.qty - order.filled
        at = Decimal(str(price)) if price is not None else order.price
        order.avg = (order.avg * order.filled + at * qty) / (order.filled + qty)
        order.filled += qty
        order.status = "Traded"
        self._trade_seq += 1
        now = datetime.now(IST)
        inst = order.inst
        self.trades.append(
            {
                "ALGO_ID": "",
                "BUY_SELL": order.side.title(),
                "CLIENT_ID": self.client_code,
                "EXCHANGE": "NSE" if inst.exch_seg == "NFO" else inst.exch_seg,
                "EXCH_ORDER_NUMBER": f"1100000{order_id[-9:]}",
                "EXPIRY_DATE": inst.expiry,
                "FULL_SYMBOL": inst.name,
                "INSTRUMENT_NAME": "EQUITY" if inst.itype == "EQ" else inst.itype,
                "OPT_TYPE": inst.name[-2:] if inst.itype.startswith("OPT") else "",
                "ORDER_DATE_TIME": now.strftime("%d-%m-%Y %H:%M:%S"),
                "ORDER_NUMBER": order_id,
                "ORDER_TYPE": order.ordertype,
                "PRICE": float(at),
                "PRODUCT": {"DELIVERY": "CNC", "INTRADAY": "MIS"}.get(order.product, "NRML"),
                "QUANTITY": qty,
                "REMARKS1": "",
                "SEC_ID": inst.token,
                "SEGMENT": "E" if inst.itype == "EQ" else "D",
                "STRIKE_PRICE": inst.strike,
                "SYMBOL": inst.symbol,
                "TRADE_NUMBER": f"{70000000 + self._trade_seq}",
                "TRADE_VALUE": float(at * qty),
                "_product": order.product,
            }
        )
        self._touch(order)

    def reject(self, order_id: str, text: str) -> None:
        order = self.orders[order_id]
        order.status, order.text = "Rejected", text
        self._touch(order)

    # ------------------------------------------------------------------ master (ref §6.4)

    def _add(self, inst: SimInstrument, ltp: Decimal | None) -> None:
        self.instruments[inst.key] = inst
        self._by_token[(inst.exch_seg, inst.token)] = inst
        self._ltp[inst.key] = ltp
        self.master.append(
            {
                "token": inst.token,
                "symbol": inst.symbol,
                "name": inst.name,
                "expiry": inst.expiry,
                "strike": inst.strike,
                "lotsize": str(inst.lot),
                "instrumenttype": inst.itype,
                "exch_seg": inst.exch_seg,
                "tick_size": str(inst.tick),
            }
        )

    def _build_master(self) -> None:
        for token, symbol, series, ltp in (
            ("3045", "SBIN", "EQ", "812.35"),
            ("2885", "RELIANCE", "EQ", "2950.10"),
            ("1594", "INFY", "EQ", "1530.00"),
            ("3812", "ZEEL", "BE", "120.00"),
        ):
            key = f"NSE:{symbol}" if series == "EQ" else f"NSE:{symbol}-{series}"
            inst = SimInstrument(
                token, f"{symbol}-{series}", "NSE", key, symbol, "EQ", 1, Decimal("0.05")
            )
            self._add(inst, Decimal(ltp))
        self._add(
            SimInstrument("500112", "SBIN", "BSE", "BSE:SBIN", "SBIN", "EQ", 1, Decimal("0.05")),
            Decimal("812.40"),
        )
        year, month = divmod(self.today.month, 12)
        month1 = last_tuesday(self.today.year + year, month + 1)
        self.expiries = {"month1": month1}
        expiry = f"{month1:%d}{month1:%b}{month1:%Y}"
        token = 40000
        spot = Decimal("24012.55")
        token += 1
        self._add(
            SimInstrument(
                str(token),
                f"NIFTY{month1:%d%b%y}FUT".upper(),
                "NFO",
                f"NFO:NIFTY{_stamp(month1)}FUT",
                "NIFTY",
                "FUTIDX",
                65,
                Decimal("0.10"),
                expiry,
                "-1",
            ),
            spot + 20,
        )
        for k in range(-10, 11):
            strike = 24000 + 50 * k
            for option in ("CE", "PE"):
                token += 1
                intrinsic = max(Decimal(0), spot - strike if option == "CE" else strike - spot)
                premium = (intrinsic + Decimal(100) / (1 + abs(k))).quantize(Decimal("0.05"))
                self._add(
                    SimInstrument(
                        str(token),
                        f"NIFTY{month1:%d%b%y}{strike}{option}".upper(),
                        "NFO",
                        f"NFO:NIFTY{_stamp(month1)}{strike}{option}",
                        "NIFTY",
                        "OPTIDX",
                        65,
                        Decimal("0.05"),
                        expiry,
                        f"{strike}.000000",
                    ),
                    premium,
                )
        self.untraded_key = f"NFO:NIFTY{_stamp(month1)}24500CE"
        self.unfetched_key = f"NFO:NIFTY{_stamp(month1)}23500PE"
        self.set_ltp(self.untraded_key, None)
        self.set_ltp(self.unfetched_key, None, unfetched=True)

    # ------------------------------------------------------------------ ticker (ref §7)

    def _live(self, jwt: str) -> bool:
        ends = self._sessions.get(jwt)
        return ends is not None and datetime.now(UTC) < ends

    async def _on_ticker(self, request: web.Request) -> web.StreamResponse:
        headers = {k.lower(): v for k, v in request.headers.items()}
        query = dict(request.query)
        self.calls.append(SimCall("GET", "/", "ticker", headers, ip=self.egress_ip, query=query))
        if self.feed_refuse:
            return self._reply_text("Service Unavailable", 503, ctype="text/plain")
        jwt = query.get("ACCESS_TOKEN", "")
        if query.get("API_KEY") != self.api_key or not self._live(jwt):
            self.feed_logins.append(SimTickerLogin("rejected", jwt))
            return self._reply_text("Unauthorized", 401, ctype="text/plain")
        async with self._feeds.serve(request) as feed:
            greeted = False
            async for message in feed.ws:
                if message.type is not WSMsgType.TEXT or greeted:
                    continue  # subscriptions: this simulator pushes no ticks by itself
                greeted = True
                if message.data != f"LOGIN:{jwt}" or not self._live(jwt):
                    self.feed_logins.append(SimTickerLogin("refused", jwt))
                    feed.close()  # "else the server disconnects" (ref §7)
                elif self.feed_silent:
                    self.feed_logins.append(SimTickerLogin("silent", jwt))
                else:
                    self.feed_logins.append(SimTickerLogin("acked", jwt))
                    feed.ack(self.feed_ack)
            return feed.ws

    # ------------------------------------------------------------------ dispatch

    def _kind(self, method: str, path: str) -> str | None:
        kind = _ROUTES.get((method, path))
        if kind is not None:
            return kind
        if path.startswith(_ORDER_PATH) and path[len(_ORDER_PATH) :].isdigit():
            return {"PUT": "modify", "DELETE": "cancel"}.get(method)
        return None

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        kind = self._kind(request.method, request.path)
        raw = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        call = SimCall(request.method, request.path, kind or "unknown", headers, ip=self.egress_ip)
        self.calls.append(call)
        if raw:  # JSON whatever the Content-Type says (ref §11 item 4)
            with contextlib.suppress(ValueError):
                call.json = json.loads(raw)
        if kind == "quote" and request.method not in self.quote_methods:
            return self._reply({"message": "Method Not Allowed"}, status=405)
        if kind is None:
            return self._reply({"message": "not found"}, status=404)
        mode = self._take_failure(kind)
        if mode == "throttle":
            return self._reply_text("", status=429, ctype="text/plain", extra={"Retry-After": "2"})
        if mode == "http500":
            return self._reply_text("<h1>500 Internal Server Error</h1>", 500, ctype="text/html")
        if mode == "html":
            page = "<html><body>502 Bad Gateway</body></html>"
            return self._reply_text(page, 200, ctype="text/html")
        if mode == "malformed":
            return self._reply_text('[{"status": "true", "data": {"orderid": ', 200)
        reply = self._checked(kind, request, call)
        if mode == "timeout":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.hang_seconds)
        if mode == "expired_after":
            self.expire_sessions()
            return self._error(SESSION_REFUSAL, "IA401", status=401, boolean=True)
        return reply

    def _take_failure(self, kind: str) -> str | None:
        for i, (target, mode) in enumerate(self._fail):
            if target == kind:
                del self._fail[i]
                return mode
        return None

    def _reply(self, body: Any, *, status: int = 200) -> web.Response:
        return self._reply_text(json.dumps(body), status)

    def _reply_text(
        self,
        text: str,
        status: int,
        *,
        ctype: str = "application/json",
        extra: dict[str, str] | None = None,
    ) -> web.Response:
        headers = {"Date": format_datetime(datetime.now(UTC), usegmt=True), **(extra or {})}
        return web.Response(text=text, status=status, content_type=ctype, headers=headers)

    def _ok(self, data: Any, *, boolean: bool = False, wrap: bool = False) -> web.Response:
        body = {"status": True if boolean else "true", "message": "SUCCESS", "errorcode": ""}
        body["data"] = data
        return self._reply([body] if wrap else body)

    def _error(
        self, message: str, code: str, *, status: int = 200, boolean: bool = False
    ) -> web.Response:
        body = {"status": False if boolean else "false", "message": message, "errorcode": code}
        body["data"] = None
        return self._reply(body, status=status)

    # ------------------------------------------------------------------ headers (ref §1, §9)

    def _checked(self, kind: str, request: web.Request, call: SimCall) -> web.Response:
        h = call.headers
        if h.get("x-mirae-version") != "1":
            body = {
                "status": "error",
                "message": "Please provide valid api version.",
                "error_type": "VersionException",
                "data": None,
            }
            return self._reply(body, status=400)
        if kind != "login":
            key = h.get("x-privatekey", "")
            if key != self.api_key:
                return self._error(KEY_REFUSAL, "IA403", status=403)
            if kind in self.ip_checked and self.egress_ip not in self.registered_ips.get(key, ()):
                body = {
                    "status": False,
                    "message": IP_REFUSAL,
                    "errorcode": "IA403",
                    "error_type": "APIKeyException",
                    "data": None,
                }
                return self._reply(body, status=403)
        if kind not in LOGIN_KINDS:
            auth = h.get("authorization", "")
            if not auth.startswith("Bearer ") or not self._live(auth.removeprefix("Bearer ")):
                return self._error(SESSION_REFUSAL, "IA401", status=401)
        handler: Callable[[web.Request, SimCall], web.Response] = getattr(self, f"_on_{kind}")
        return handler(request, call)

    # ------------------------------------------------------------------ login (ref §2)

    def _on_login(self, request: web.Request, call: SimCall) -> web.Response:
        body = call.json if isinstance(call.json, dict) else {}
        if not all(isinstance(body.get(k), str) for k in ("clientcode", "password", "totp")):
            return self._error("Please provide valid clientcode and password.", "400", status=400)
        if body["clientcode"] != self.client_code or body["password"] != self.password:
            return self._error("Invalid username or password. 9 attempts remaining ", "MA500")
        token = str(uuid.uuid4())
        self._requests.add(token)
        data = {"jwtToken": token, "refreshToken": "", "feedToken": "", "state": "live"}
        body = {"status": "true", "message": "Please enter the OTP that we sent on XXXXXXX452"}
        return self._reply({**body, "errorcode": "", "data": data})

    def _on_verifytotp(self, request: web.Request, call: SimCall) -> web.Response:
        body = call.json if isinstance(call.json, dict) else {}
        token, totp = body.get("refreshToken"), body.get("totp")
        expected = self.expected_totp
        ok = isinstance(totp, str) and (expected(totp) if callable(expected) else totp == expected)
        if token not in self._requests or not ok:
            refusal = {"status": "error", "message": "Please enter correct TOTP"}
            return self._reply({**refusal, "error_type": "MA400", "data": None}, status=400)
        self._requests.discard(str(token))
        now = datetime.now(IST)
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), IST)
        ends = self.session_end or midnight
        jwt = fake_jwt(self.client_code, ends)
        self._sessions[jwt] = ends
        data = {
            "ClientName": "SIM USER",
            "ClientId": self.client_code,
            "exchanges": ["NSE", "BSE", "NFO"],
            "jwtToken": jwt,
            "refreshToken": jwt,
            "feedToken": jwt,
        }
        return self._ok(data, boolean=True)

    # ------------------------------------------------------------------ orders (ref §4)

    def _instrument(self, body: dict[str, Any]) -> SimInstrument | None:
        inst = self._by_token.get((str(body.get("exchange")), str(body.get("symboltoken"))))
        if inst is None or inst.name != body.get("tradingsymbol"):
            return None
        return inst

    @staticmethod
    def _strings(body: dict[str, Any], keys: tuple[str, ...]) -> str | None:
        for key in keys:
            if not isinstance(body.get(key), str):
                return f"{key} must be a string"  # the API's convention (ref §4 value types)
        return None

    def _terms(
        self, body: dict[str, Any], inst: SimInstrument
    ) -> tuple[int, Decimal, Decimal] | str:
        """(quantity, price, trigger), or the refusal text: lots and ticks are enforced."""
        qty = int(body["quantity"]) if body["quantity"].isdigit() else 0
        if qty <= 0 or qty % inst.lot:
            return f"{LOT_REFUSAL} {inst.lot}"
        try:
            price, trigger = Decimal(body["price"]), Decimal(body.get("triggerprice") or "0")
        except ArithmeticError:
            return "Enter valid price."
        if body["ordertype"] not in ("MARKET", "STOPLOSS_MARKET") and price <= 0:
            return "Enter valid price."
        if price % inst.tick or trigger % inst.tick:
            return f"{TICK_REFUSAL} {inst.tick}"
        return qty, price, trigger

    def _on_place(self, request: web.Request, call: SimCall) -> web.Response:
        body = call.json if isinstance(call.json, dict) else {}
        keys = ("variety", "tradingsymbol", "symboltoken", "exchange", "transactiontype")
        keys += ("ordertype", "quantity", "producttype", "price", "triggerprice", "duration")
        problem = self._strings(body, (*keys, "ordertag"))
        if problem:
            return self._error(problem, "IA400", status=400)
        if not _TAG.fullmatch(body["ordertag"]):
            return self._error("Order tag should be alphanumeric, below 20 characters", "400")
        inst = self._instrument(body)
        if inst is None:
            return self._error("Invalid symbol token", "IA400", status=400)
        if body["ordertype"] not in ("LIMIT", "MARKET", "STOPLOSS_LIMIT", "STOP_LOSS"):
            return self._error(f"Invalid order type {body['ordertype']}", "400")
        terms = self._terms(body, inst)
        if isinstance(terms, str):
            return self._error(terms, "400")
        qty, price, trigger = terms
        self._seq += 1
        order = SimOrder(
            order_id=f"{self.today:%y%m%d}{self._seq:07d}",
            inst=inst,
            side=body["transactiontype"],
            qty=qty,
            ordertype=body["ordertype"],
            price=price,
            trigger=trigger,
            product=body["producttype"],
            variety=body["variety"],
            tag=body["ordertag"],
            status="trigger pending" if body["ordertype"].startswith("STOP") else "Pending",
        )
        self.orders[order.order_id] = order
        self._touch(order)
        data = {"script": inst.name, "orderid": order.order_id, "uniqueorderid": ""}
        return self._ok(data, wrap=self.wrap_orders)

    def _order_from_path(self, request: web.Request) -> SimOrder | None:
        return self.orders.get(request.path.rsplit("/", 1)[-1])

    def _on_modify(self, request: web.Request, call: SimCall) -> web.Response:
        body = call.json if isinstance(call.json, dict) else {}
        problem = self._strings(body, ("variety", "orderid", "ordertype", "quantity", "price"))
        if problem:
            return self._error(problem, "IA400", status=400)
        order = self._order_from_path(request)
        if order is None or body["orderid"] != order.order_id:
            return self._reply(
                {
                    "status": "false",
                    "message": "Order Does not Exsist.Need to refresh orderbook / relogin "
                    "in application ",
                    "errorcode": "",
                    "error_type": "InputException",
                    "data": None,
                }
            )
        if order.status in ("Traded", "Cancelled", "Rejected"):
            return self._error(
                CANCELLED_TEXT
                if order.status == "Cancelled"
                else f"Order is {order.status}.Kindly refresh your OrderBook",
                "RS-0034",
            )
        terms = self._terms(body, order.inst)
        if isinstance(terms, str):
            return self._error(terms, "400")
        order.qty, order.price, order.trigger = terms
        order.ordertype = body["ordertype"]
        order.status = "O-Modified"
        self._touch(order)
        data = {"orderid": f" {order.order_id}", "uniqueorderid": ""}  # leading space (§4.2)
        return self._ok(data, wrap=self.wrap_orders)

    def _on_cancel(self, request: web.Request, call: SimCall) -> web.Response:
        body = call.json if isinstance(call.json, dict) else {}
        order = self._order_from_path(request)
        if not isinstance(body.get("variety"), str) or order is None:
            return self._error(CANCELLED_TEXT, "RS-00093")
        if order.status in ("Traded", "Cancelled", "Rejected"):
            return self._error(CANCELLED_TEXT, "RS-00093")
        if body["variety"] != order.variety:
            return self._error("Invalid variety", "400")
        order.status = "Cancelled"
        self._touch(order)
        return self._ok({"orderid": order.order_id, "uniqueorderid": ""}, wrap=self.wrap_orders)

    # ------------------------------------------------------------------ reports (ref §4-§5)

    def _order_row(self, order: SimOrder) -> dict[str, Any]:
        inst = order.inst
        fo = inst.itype != "EQ"
        return {
            "variety": None,
            "ordertype": "SL" if order.ordertype.startswith("STOP") else order.ordertype,
            "producttype": order.product,
            "duration": "DAY",
            "price": _money(order.price),
            "triggerprice": _money(order.trigger),
            "quantity": str(order.qty),
            "disclosedquantity": "0",
            "squareoff": "0",
            "stoploss": "0",
            "trailingstoploss": "0",
            "tradingsymbol": inst.name,
            "transactiontype": order.side,
            "exchange": "NSE" if inst.exch_seg == "NFO" else inst.exch_seg,  # F&O says NSE
            "symboltoken": inst.token,
            "instrumenttype": inst.itype if fo else "",
            "strikeprice": inst.strike or "-0.01",
            "optiontype": inst.name[-2:] if inst.itype.startswith("OPT") else "XX",
            "expirydate": inst.expiry,
            "lotsize": str(inst.lot),
            "cancelsize": str(order.qty - order.filled) if order.status == "Cancelled" else "0",
            "averageprice": _money(order.avg),
            "filledshares": str(order.filled),
            "unfilledshares": str(order.qty - order.filled),
            "orderid": order.order_id,
            "text": order.text,
            "status": order.status,
            "orderstatus": order.status,
            "updatetime": order.updated.strftime("%Y-%b-%d %H:%M:%S"),
            "exchtime": order.updated.strftime("%Y-%b-%d %H:%M:%S"),
            "exchorderupdatetime": order.updated.strftime("%Y-%b-%d %H:%M:%S"),
            "fillid": "",
            "filltime": "",
            "parentorderid": "",
            "uniqueorderid": "",
            "exchangeorderid": f"1100000{order.order_id[-9:]}",
        }

    def _on_orders(self, request: web.Request, call: SimCall) -> web.Response:
        rows = [self._order_row(o) for o in reversed(list(self.orders.values()))]
        return self._ok(rows or None)

    def _on_details(self, request: web.Request, call: SimCall) -> web.Response:
        body = call.json if isinstance(call.json, dict) else {}
        order = self.orders.get(str(body.get("order_no")))
        if order is None:
            return self._error("No data found", "MA0404")
        row = self._order_row(order)
        row.update(
            price=float(order.price),
            triggerprice=float(order.trigger),
            ordertag=order.tag,
            updatetime=order.updated.strftime("%d-%m-%Y %I:%M:%S %p"),
        )
        return self._ok([row])

    def _on_trades(self, request: web.Request, call: SimCall) -> web.Response:
        rows = [{k: v for k, v in t.items() if not k.startswith("_")} for t in self.trades]
        return self._ok(rows or None)

    def _on_positions(self, request: web.Request, call: SimCall) -> web.Response:
        agg: dict[tuple[str, str], dict[str, Any]] = {}
        for trade in self.trades:
            key = (trade["SEC_ID"], trade["_product"])
            inst = next(i for i in self.instruments.values() if i.token == trade["SEC_ID"])
            row = agg.setdefault(
                key,
                {
                    "inst": inst,
                    "product": trade["_product"],
                    "bq": 0,
                    "sq": 0,
                    "ba": Decimal(0),
                    "sa": Decimal(0),
                },
            )
            amount = Decimal(str(trade["PRICE"])) * trade["QUANTITY"]
            side = "b" if trade["BUY_SELL"] == "Buy" else "s"
            row[f"{side}q"] += trade["QUANTITY"]
            row[f"{side}a"] += amount
        rows = []
        for row in agg.values():
            inst = row["inst"]
            bq, sq, ba, sa = row["bq"], row["sq"], row["ba"], row["sa"]
            rows.append(
                {
                    "exchange": "NSE" if inst.exch_seg == "NFO" else inst.exch_seg,
                    "symboltoken": inst.token,
                    "producttype": row["product"],
                    "tradingsymbol": "",  # empty on the live server ([OA])
                    "symbolname": inst.name,
                    "instrumenttype": inst.itype if inst.itype != "EQ" else "",
                    "multiplier": "1",
                    "boardlotsize": str(inst.lot),
                    "buyqty": str(bq),
                    "sellqty": str(sq),
                    "buyamount": _money(ba),
                    "sellamount": _money(sa),
                    "buyavgprice": _money(ba / bq) if bq else "0",
                    "sellavgprice": _money(sa / sq) if sq else "0",
                    "netqty": str(bq - sq),
                    "netvalue": _money(sa - ba),
                    "cfbuyqty": "0",
                    "cfsellqty": "0",
                    "lotsize": str(inst.lot),
                }
            )
        return self._ok(rows or None)

    def _on_holdings(self, request: web.Request, call: SimCall) -> web.Response:
        body = {"status": "true", "message": "SUCCESS", "errorcode": None, "data": self.holdings}
        return self._reply(body)

    def _on_funds(self, request: web.Request, call: SimCall) -> web.Response:
        return self._ok([dict(self.funds)], boolean=True)

    def _on_margin(self, request: web.Request, call: SimCall) -> web.Response:
        body = call.json if isinstance(call.json, dict) else {}
        orders = body.get("orders")
        if not isinstance(orders, list) or len(orders) != 1 or not isinstance(orders[0], dict):
            return self._error("orders is required", "IA400", status=400)
        order = orders[0]
        price = Decimal(str(order.get("price") or "0"))
        total = price * int(str(order.get("quantity") or "0"))
        if order.get("product_type") == "INTRADAY":
            total = total / 5
        breakup = [{"name": "SPANMARGIN", "amount": float(total), "msg": "", "breakup": []}]
        summary = {"total_charges": float(total), "trade_value": 0, "breakup": breakup}
        return self._ok({"summary": summary, "charges": [summary]})

    # ------------------------------------------------------------------ market data (ref §6)

    def _on_quote(self, request: web.Request, call: SimCall) -> web.Response:
        body = call.json if isinstance(call.json, dict) else {}
        mode, tokens = body.get("mode"), body.get("exchangeTokens")
        if mode not in ("LTP", "OHLC", "FULL") or not isinstance(tokens, dict):
            return self._error("Invalid mode or exchangeTokens", "IA400", status=400)
        fetched, unfetched = [], []
        for exchange, listed in tokens.items():
            for token in listed if isinstance(listed, list) else ():
                inst = self._by_token.get((exchange, token))
                if inst is None or inst.key in self._unfetched:
                    unfetched.append(
                        {
                            "exchange": exchange,
                            "symbolToken": token,
                            "message": "No data",
                            "errorCode": "IA400",
                        }
                    )
                    continue
                ltp = self._ltp.get(inst.key)
                element: dict[str, Any] = {
                    "exchange": exchange,
                    "tradingSymbol": inst.name,
                    "symbolToken": token,
                    "ltp": float(ltp) if ltp else 0.0,
                }
                if mode != "LTP":
                    value = float(ltp) if ltp else 0.0
                    element.update(open=value, high=value, low=value, close=value)
                fetched.append(element)
        return self._ok({"fetched": fetched, "unfetched": unfetched})

    def _on_master(self, request: web.Request, call: SimCall) -> web.Response:
        return self._reply(self.master)  # a bare array, no envelope (ref §6.4)


def mstock_config(sim: MStockSimulator, cache_dir: Any, **overrides: Any) -> Any:
    """An `MStockConfig` pointing at this simulator (imported lazily: fakes need no brokers)."""
    from brokers.mstock import MStockConfig

    values: dict[str, Any] = {
        "client_code": sim.client_code,
        "api_key": sim.api_key,
        "password": sim.password,
        "cache_dir": cache_dir,
        "base_url": sim.url,
        "ws_url": sim.ws_url,
    }
    values.update(overrides)
    return MStockConfig(**values)
