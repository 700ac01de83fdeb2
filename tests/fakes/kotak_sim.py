"""A Kotak Neo Trade API simulator on loopback (aiohttp.web), with Kotak's real wire shapes.

Serves the login host paths AND the baseUrl paths from one port: the validate reply's `baseUrl`
points back here. Shapes follow `shared/reference/kotak-neo.md` (ref §n): HTTP 200 error envelopes,
form `jData` bodies, 5203 on empty books, bare-list quotes with missing LTPs, the file-paths call
and generated scrip-master CSVs with the verbatim header and real units (ref §10).

Test controls (all synchronous unless noted):
    sim = KotakSimulator(); await sim.start(); sim.login_url; await sim.stop()
    sim.expected_totp = "123456" | callable(totp) -> bool;  sim.mpin = "..."
    sim.egress_ip = "198.51.100.7";  sim.whitelisted_ips = {...}
    sim.expire_sessions()
    sim.fail_next(kind_or_path, mode)  # modes: timeout, http500, html, malformed, throttle,
                                       #   expired_after (the order IS made, then 100022),
                                       #   odd_code (HTTP 200 with an stCode nobody knows)
    sim.duplicate_tag_code = 32 | 5204  # how a reused `ig` tag is refused (ref §4.1)
    await sim.go_offline(); await sim.go_online()  # refuse connections (nothing arrives)
    sim.set_ltp(symbol_or_token, value, *, omit=False)
    sim.fill(order_no, qty=None);  sim.reject(order_no, reason)
    sim.calls  # list[SimCall]: method, path, kind, headers (lower-case names), json, jdata, ip,
               #   at (time.monotonic() when the request arrived, before its body was read)
    sim.positions_v2 = False        # /portfolio/v2/positions is not served (only /quick/user/...)
    sim.missing_path_status = 404   # HTTP status for a path the server does not serve (or 405)
    sim.margin_rates = {...}        # check-margin: margin per rupee of order value, per product
    sim.serve_master_file("nse_fo.csv", content)  # a master of another size (benches)

Order feed (`/realtime` websocket on the same host, ref §9.1): the upgrade carries no credentials;
the first text frame must be the `cn` handshake with a live trade token + sid, raw
(`{type:cn,Authorization:..,Sid:..,src:WEB}`) or JSON. Then every order state change is pushed as
`{"type":"order","data":<order-book row>}`.
    sim.feed_accepts = "both" | "raw" | "json"  # a refused form gets the socket closed
    sim.feed_silent = True          # accept the handshake but never ack or push
    sim.drop_feeds()                # close every feed connection (server side)
    sim.push_feed(text_or_object)   # send one extra frame to every acked connection
    sim.feed_connections            # upgrades so far;  sim.open_feeds: connections open now
    sim.feed_handshakes             # list[SimFeedHandshake]: form, outcome, sid
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs

from aiohttp import WSMsgType, web

from tests.fakes.ws_feed import FeedControls, SimFeeds

IST = timezone(timedelta(hours=5, minutes=30))
EPOCH_1980_OFFSET = 315513000
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
WEEKLY_MONTH = "123456789OND"

# ref §10.1, verbatim: trailing spaces and `dStrikePrice;` are part of the names.
_CM_HEADER_TEXT = (
    "pSymbol,pGroup,pExchSeg,pInstType,pSymbolName,pTrdSymbol,pOptionType,pScripRefKey,pISIN,"
    "pAssetCode,pSubGroup,pCombinedSymbol,pDesc,pAmcCode,pContractId,dTickSize ,lLotSize,"
    "lExpiryDate ,lMultiplier ,lPrecision,dStrikePrice;,pExchange,pInstName,pExpiryDate,pIssueDate,"
    "pMaturityDate,pListingDate,pNoDelStartDate,pNoDelEndDate,pBookClsStartDate,pBookClsEndDate,"
    "pRecordDate,pCreditRating,pReAdminDate,pExpulsionDate,pLocalUpdateTime,pDeliveryUnits,"
    "pPriceUnits,pLastTradingDate,pTenderPeridEndDate,pTenderPeridStartDate,pSellVarMargin,"
    "pBuyVarMargin,pInstrumentInfo,pRemarksText,pSegment,pNav,pNavDate,pMfAmt,pSipSecurity,"
    "pFaceValue,pTrdUnits,pExerciseStartDate,pExerciseEndDate,pElmMargin,pVarMargin,"
    "pTotProposedLimitValue,pScripBasePrice,pSettlementType,pCurrectionTime,iPermittedToTrade,"
    "iBoardLotQty ,iMaxOrderSize ,iLotSize,dOpenInterest ,dHighPriceRange ,dLowPriceRange ,"
    "dPriceNum   ,dGenDen,dGenNum,dPriceQuatation ,dIssuerate ,dPriceDen,dWarningQty ,"
    "dIssueCapital ,dExposureMargin ,dMinRedemptionQty ,lFreezeQty"
)
CM_HEADER = _CM_HEADER_TEXT.split(",")
FO_HEADER = [*CM_HEADER, "CASEligible"]

_ROW_DEFAULTS = {
    "lMultiplier ": "1",
    "lPrecision": "2",
    "dPriceNum   ": "1",
    "dGenDen": "1",
    "dGenNum": "1",
    "dPriceDen": "1",
    "iPermittedToTrade": "1",
    "dPriceQuatation ": "1",
    "dOpenInterest ": "0",
}

MODES = ("timeout", "http500", "html", "malformed", "throttle", "expired_after", "odd_code")
SIM_TOTP = "739184"  # the code the simulator accepts unless told otherwise
_PATHS = {
    ("POST", "/login/1.0/tradeApiLogin"): "login",
    ("POST", "/login/1.0/tradeApiValidate"): "validate",
    ("GET", "/login/1.0/get-client-ip"): "client-ip",
    ("POST", "/quick/order/rule/ms/place"): "place",
    ("POST", "/quick/order/vr/modify"): "modify",
    ("POST", "/quick/order/cancel"): "cancel",
    ("GET", "/quick/user/orders"): "orders",
    ("POST", "/quick/order/history"): "history",
    ("GET", "/quick/user/trades"): "trades",
    ("GET", "/portfolio/v2/positions"): "positions",
    ("GET", "/quick/user/positions"): "positions",
    ("GET", "/portfolio/v1/holdings"): "holdings",
    ("POST", "/quick/user/limits"): "limits",
    ("POST", "/quick/user/check-margin"): "check-margin",
    ("GET", "/script-details/1.0/masterscrip/file-paths"): "file-paths",
}
ORDER_KINDS = frozenset({"place", "modify", "cancel"})
REPORT_KINDS = frozenset(
    {"orders", "order", "history", "trades", "positions", "holdings", "limits", "check-margin"}
)
POSITIONS_V2 = "/portfolio/v2/positions"
MARGIN_BRACKET_KEYS = ("slAbsOrTks", "slVal", "sqrOffAbsOrTks", "sqrOffVal", "trailSL", "tSLTks")
MARKET_KINDS = frozenset({"quotes", "file-paths"})

NO_DATA = {"stCode": 5203, "errMsg": "No Data", "desc": "data not found", "stat": "Not_Ok"}
INVALID_SESSION = {
    "stCode": 100022,
    "errMsg": "invalid session token",
    "stat": "error in neo-login-check-api",
}
IP_NOT_WHITELISTED = {"stCode": 100008, "errMsg": "unauthorized", "stat": "Not_Ok"}
IP_MISMATCH = {
    "stCode": 1037,
    "errMsg": "session ip doesnt match with reqest ip",
    "stat": "Not_Ok",
}
# A reused tag, in the two shapes reported (ref §4.1): v2 SDK era (32) and older (5204).
DUPLICATE_TAG = {
    32: {
        "stCode": 32,
        "errMsg": "error from core",
        "stat": "Put Order Response : Client OrderID already exists Data: 0",
    },
    5204: {
        "stat": "Not_Ok",
        "errMsg": "Put Order Response : Client OrderID already exists",
        "stCode": 5204,
    },
}
ODD_CODE = {"stCode": 70707, "errMsg": "something this adapter has never seen", "stat": "Not_Ok"}
ORDER_COMPLETED = {
    "stCode": 1021,
    "errMsg": "order is completed",
    "stat": "please provide valid order number",
}
GATEWAY_INVALID = {
    "code": "900901",
    "message": "Invalid Credentials",
    "description": "Invalid JWT token. Make sure you have provided the correct security "
    "credentials",
}


# --------------------------------------------------------------------------- data


@dataclass
class SimCall:
    method: str
    path: str
    kind: str
    headers: dict[str, str]
    query: dict[str, str]
    json: Any = None
    jdata: dict[str, Any] | None = None
    ip: str = ""
    raw_path: str = ""
    at: float = field(default_factory=time.monotonic)


@dataclass
class SimInstrument:
    segment: str
    token: str
    trading_symbol: str
    key: str  # OpenAlgo style, for tests: NSE:SBIN, NFO:NIFTY30DEC2524000CE
    lot: int
    tick: Decimal  # rupees
    kind: str  # EQ, FUT, CE, PE, INDEX
    quote_name: str = ""  # indices: "Nifty 50"


@dataclass
class SimSession:
    token: str
    sid: str
    ip: str
    alive: bool = True


@dataclass
class SimOrder:
    no: str
    inst: SimInstrument
    side: str
    qty: int
    price_type: str
    price: Decimal
    trigger: Decimal
    product: str
    validity: str
    tag: str
    status: str = "open"
    filled: int = 0
    avg: Decimal = Decimal(0)
    reason: str = "--"
    cancelled: int = 0
    updated: datetime = field(default_factory=lambda: datetime.now(IST))
    history: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SimFeedHandshake:
    form: str  # "raw", "json" or "invalid"
    outcome: str  # "acked", "refused" or "silent"
    sid: str = ""


FEED_ACK = {"ak": "ok", "type": "cn", "msg": "connected"}  # [OA] (ref §9.1)


def parse_feed_handshake(text: str) -> tuple[str, dict[str, str]]:
    """The first feed frame in either disputed encoding (ref §9.1) -> (form, fields)."""
    try:
        obj = json.loads(text)
    except ValueError:
        obj = None
    if isinstance(obj, dict):
        return "json", {str(k): str(v) for k, v in obj.items()}
    body = text.strip()
    if body.startswith("{") and body.endswith("}") and ":" in body:
        pairs = [item.partition(":") for item in body[1:-1].split(",")]
        if all(sep for _, sep, _ in pairs):
            return "raw", {k.strip(): v.strip() for k, _, v in pairs}
    return "invalid", {}


def _money(value: Decimal, places: int = 2) -> str:
    return f"{value:.{places}f}"


def _epoch_ist(day: date, hour: int, minute: int) -> int:
    return int(datetime(day.year, day.month, day.day, hour, minute, tzinfo=IST).timestamp())


def next_weekday(start: date, weekday: int) -> date:
    return start + timedelta(days=(weekday - start.weekday()) % 7)


def last_weekday_of_month(year: int, month: int, weekday: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    last = first_next - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def master_row(header: list[str], values: dict[str, str]) -> list[str]:
    merged = {**_ROW_DEFAULTS, **values}
    return [merged.get(name, "") for name in header]


def fo_row(
    header: list[str],
    *,
    token: int,
    name: str,
    expiry: date,
    option: str,
    strike: int | None,
    lot: int,
    tick_paise: int,
    weekly: bool,
    freeze: int,
) -> tuple[list[str], str, str]:
    """One nse_fo row with Kotak's units (ref §10.3). Returns (row, pTrdSymbol, our symbol)."""
    yy = expiry.year % 100
    mon = MONTHS[expiry.month - 1]
    stamp = f"{expiry.day:02d}{mon}{yy:02d}"
    if option == "XX":
        ts = f"{name}{yy}{mon}FUT"
        ours = f"{name}{stamp}FUT"
        inst_type = "FUTIDX" if name in ("NIFTY", "BANKNIFTY") else "FUTSTK"
        strike_raw, ref_key = "-1", f"{name}{stamp}FUT"
    else:
        if weekly:
            ts = f"{name}{yy}{WEEKLY_MONTH[expiry.month - 1]}{expiry.day:02d}{strike}{option}"
        else:
            ts = f"{name}{yy}{mon}{strike}{option}"
        ours = f"{name}{stamp}{strike}{option}"
        inst_type = "OPTIDX" if name in ("NIFTY", "BANKNIFTY") else "OPTSTK"
        strike_raw = f"{(strike or 0) * 100:.6g}"  # scientific notation, as in the live files
        ref_key = f"{name}{stamp}{strike}.00{option}"
    epoch = _epoch_ist(expiry, 14, 30) - EPOCH_1980_OFFSET  # nse_fo counts from 1980
    row = master_row(
        header,
        {
            "pSymbol": str(token),
            "pGroup": "XX",
            "pExchSeg": "nse_fo",
            "pInstType": inst_type,
            "pSymbolName": name,
            "pTrdSymbol": ts,
            "pOptionType": option,
            "pScripRefKey": ref_key,
            "pDesc": name,
            "dTickSize ": str(tick_paise),
            "lLotSize": str(lot),
            "iLotSize": str(lot),
            "iBoardLotQty ": str(lot),
            "lExpiryDate ": str(epoch),
            "dStrikePrice;": strike_raw,
            "pExchange": "NSE",
            "pInstName": inst_type,
            "pExpiryDate": expiry.strftime("%d%b%Y"),
            "pSegment": "FO",
            "lFreezeQty": str(freeze),
            "iMaxOrderSize ": str(freeze),
            "CASEligible": "N",
        },
    )
    return row, ts, ours


def protected_price(ltp: Decimal, side: str, kind: str, tick: Decimal) -> Decimal:
    """Kotak's market-protection grid (ref §11) snapped to the tick away from the LTP."""
    pct: int | Decimal
    if kind in ("CE", "PE"):
        if ltp < 1:
            band = Decimal("0.10")
        else:
            pct = next(
                p for lim, p in ((5, 10), (10, 5), (100, 3), (500, 2), (10**9, 1)) if ltp < lim
            )
            band = ltp * pct / 100
    else:
        pct = Decimal(2) if ltp < 100 else Decimal(1) if ltp <= 500 else Decimal("0.5")
        band = ltp * pct / 100
    raw = ltp + band if side == "B" else ltp - band
    rounding = ROUND_CEILING if side == "B" else ROUND_FLOOR
    return (raw / tick).to_integral_value(rounding) * tick


# --------------------------------------------------------------------------- simulator


class KotakSimulator(FeedControls):
    """See the module docstring for the controls."""

    def __init__(
        self,
        *,
        access_token: str = "sim-access-token-5f1c",  # noqa: S107 - fake credential
        ucc: str = "YSIM01",
        mobile: str = "+919876543210",
        mpin: str = "246810",
        expected_totp: str | Callable[[str], bool] = SIM_TOTP,
        today: date | None = None,
        hang_seconds: float = 5.0,
        stock_count: int = 2000,
    ) -> None:
        self.access_token = access_token
        self.ucc = ucc
        self.mobile = mobile
        self.mpin = mpin
        self.expected_totp = expected_totp
        self.today = today or datetime.now(IST).date()
        self.hang_seconds = hang_seconds
        self.egress_ip = "203.0.113.10"
        self.whitelisted_ips: set[str] = {"203.0.113.10", "203.0.113.11"}
        self.clock_skew = timedelta(0)
        self.data_center = "E21"
        self.calls: list[SimCall] = []
        self.orders: dict[str, SimOrder] = {}
        self.trades: list[dict[str, Any]] = []
        self.holdings: list[dict[str, Any]] = []
        self.limits: dict[str, Any] = {
            "Category": "CLIENT",
            "CollateralValue": "100000.00",
            "Collateral": "5000.00",
            "RmsCollateral": "0.00",
            "AdhocMargin": "0.00",
            "NotionalCash": "0.00",
            "UnrealizedMtomPrsnt": "0.00",
            "RealizedMtomPrsnt": "0.00",
            "MarginUsed": "12500.50",
            "MarginUsedPrsnt": "12.0",
            "RmsPayInAmt": "2000.00",
            "RmsPayOutAmt": "500.00",
            "Net": "94000.00",
            "BoardLotLimit": "5000",
            "TimeStamp": "",
            "stCode": 200,
            "stat": "Ok",
        }
        # ref §6.1: SDK 3.0.9 reads v2, older clients /quick/user/positions; both served unless
        # `positions_v2` is False, when v2 answers like any unknown path.
        self.positions_v2 = True
        self.missing_path_status = 404
        # check-margin rule (see `_on_check_margin`): order margin = qty x price x rate.
        self.margin_rates: dict[str, Decimal] = {
            "CNC": Decimal(1),
            "NRML": Decimal(1),
            "MTF": Decimal("0.5"),
            "MIS": Decimal("0.2"),
        }
        self._views: dict[str, str] = {}
        self._sessions: dict[str, SimSession] = {}
        self._fail: list[tuple[str, str]] = []
        self.duplicate_tag_code = 32
        self._order_seq = 0
        self._trade_seq = 0
        self._instruments: dict[str, SimInstrument] = {}  # "seg|token" -> instrument
        self._by_name: dict[str, SimInstrument] = {}  # key, pTrdSymbol, token -> instrument
        self._ltp: dict[str, Decimal | None] = {}
        self._omitted: set[str] = set()
        self._files: dict[str, bytes] = {}
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self.feed_accepts = "both"
        self.feed_silent = False
        self.feed_handshakes: list[SimFeedHandshake] = []
        self._feeds = SimFeeds()
        self.port = 0
        self._stock_count = stock_count
        self.lot_sizes: dict[str, int] = {}  # underlying -> lot size, overriding the defaults
        self._build_master(stock_count)
        self._default_holdings()

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def login_url(self) -> str:
        return self.url

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/realtime", self._on_realtime)  # before the catch-all
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await self._site.start()
        self.port = int(self._runner.addresses[0][1])

    async def go_offline(self) -> None:
        """Stop listening and close every open connection: from now on a client cannot connect
        at all (what a broker outage before anything is sent looks like)."""
        if self._site is not None and self._runner is not None:
            await self._site.stop()
            self._site = None
            await self._runner.server.shutdown(0.1)  # type: ignore[union-attr]

    async def go_online(self) -> None:
        """Listen again, on the same port."""
        if self._site is None and self._runner is not None:
            self._site = web.TCPSite(self._runner, "127.0.0.1", self.port)
            await self._site.start()

    async def stop(self) -> None:
        self._stopping.set()
        self.drop_feeds()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> KotakSimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ controls

    def calls_of(self, kind: str) -> list[SimCall]:
        return [c for c in self.calls if c.kind == kind]

    def expire_sessions(self) -> None:
        for session in self._sessions.values():
            session.alive = False

    def fail_next(self, path_or_kind: str, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self._fail.append((path_or_kind, mode))

    def next_day(self, day: date) -> None:
        """Serve `day`'s scrip master from now on, as Kotak publishes one per trading day:
        expiries move on with the date (an expired weekly is gone), `lot_sizes` apply, and the
        file list and downloads carry the new date."""
        self.today = day
        for table in (self._instruments, self._by_name, self._ltp, self._files):
            table.clear()
        self._omitted.clear()
        self._build_master(self._stock_count)

    def serve_master_file(self, name: str, content: bytes) -> None:
        """Serve `content` as today's `name` (`nse_fo.csv`): bench/startup.py loads a master of
        the live size. Its rows are not the simulator's instruments (no quotes, no orders)."""
        self._files[name] = content

    def instrument(self, symbol_or_token: str) -> SimInstrument:
        found = self._instruments.get(symbol_or_token) or self._by_name.get(symbol_or_token)
        if found is None:
            raise KeyError(symbol_or_token)
        return found

    def set_ltp(self, symbol_or_token: str, value: Any, *, omit: bool = False) -> None:
        """`value` None -> the quote says ltp "0" (never traded); `omit` drops the element."""
        inst = self.instrument(symbol_or_token)
        ref = f"{inst.segment}|{inst.token}"
        self._ltp[ref] = None if value is None else Decimal(str(value))
        if omit:
            self._omitted.add(ref)
        else:
            self._omitted.discard(ref)

    def fill(self, order_no: str, qty: int | None = None, price: Any = None) -> None:
        order = self.orders[order_no]
        remaining = order.qty - order.filled
        qty = remaining if qty is None else min(qty, remaining)
        at = Decimal(str(price)) if price is not None else order.price
        if at <= 0:
            at = self._ltp.get(f"{order.inst.segment}|{order.inst.token}") or Decimal(1)
        order.avg = (order.avg * order.filled + at * qty) / (order.filled + qty)
        order.filled += qty
        order.status = "complete" if order.filled >= order.qty else "open"
        self._trade_seq += 1
        now = datetime.now(IST)
        self.trades.append(
            {
                "nOrdNo": order.no,
                "flId": f"{50000000 + self._trade_seq}",
                "exSeg": order.inst.segment,
                "tok": "",  # empty on trade-book rows (ref §5, [OA] live)
                "trdSym": order.inst.trading_symbol,
                "sym": order.inst.trading_symbol.split("-")[0],
                "trnsTp": order.side,
                "fldQty": qty,
                "avgPrc": _money(at),
                "prod": order.product,
                "flDt": now.strftime("%d-%b-%Y"),
                "flTm": now.strftime("%H:%M:%S"),
                "GuiOrdId": order.tag,
                "rptTp": "fill",
                "prcTp": order.price_type,
                "_tok": order.inst.token,
            }
        )
        self._touch(order)

    def reject(self, order_no: str, reason: str) -> None:
        order = self.orders[order_no]
        order.status = "rejected"
        order.reason = reason
        self._touch(order)

    # ------------------------------------------------------------------ master data

    def _add(self, inst: SimInstrument, ltp: Decimal | None) -> None:
        ref = f"{inst.segment}|{inst.token}"
        self._instruments[ref] = inst
        for name in (inst.key, inst.trading_symbol, inst.token, inst.quote_name):
            if name:
                self._by_name.setdefault(name, inst)
        self._ltp[ref] = ltp

    def _build_master(self, stock_count: int) -> None:
        cm_rows: list[list[str]] = []
        stocks = [
            ("3045", "SBIN", "EQ", "INE062A01020", "STATE BANK OF INDIA", 5, "812.35"),
            ("2885", "RELIANCE", "EQ", "INE002A01018", "RELIANCE INDUSTRIES LTD", 10, "2950.10"),
            ("1594", "INFY", "EQ", "INE009A01021", "INFOSYS LIMITED", 10, "1530.00"),
            ("11536", "TCS", "EQ", "INE467B01029", "TATA CONSULTANCY SERV LT", 10, "3400.00"),
            ("2031", "M&M", "EQ", "INE101A01026", "MAHINDRA & MAHINDRA, LTD", 5, "2750.00"),
            ("16669", "BAJAJ-AUTO", "EQ", "INE917I01010", "BAJAJ AUTO LIMITED", 50, "8900.00"),
            ("14366", "IDEA", "EQ", "INE669E01016", "VODAFONE IDEA LIMITED", 1, "9.39"),
            ("3812", "ZEEL", "BE", "INE256A01028", "ZEE ENTERTAINMENT ENT", 1, "120.00"),
        ]
        for i in range(stock_count):
            price = 50 + (i * 37) % 3000
            stocks.append(
                (
                    str(100001 + i),
                    f"SIMSTK{i:04d}",
                    "EQ",
                    f"INE{i:06d}X01",
                    f"SIM STOCK {i}",
                    5,
                    f"{price}.00",
                )
            )
        for token, name, group, isin, desc, tick, ltp in stocks:
            ts = f"{name}-{group}"
            ltp_d = Decimal(ltp)
            cm_rows.append(
                master_row(
                    CM_HEADER,
                    {
                        "pSymbol": token,
                        "pGroup": group,
                        "pExchSeg": "nse_cm",
                        "pSymbolName": name,
                        "pTrdSymbol": ts,
                        "pOptionType": "",
                        "pISIN": isin,
                        "pDesc": desc,
                        "dTickSize ": str(tick),
                        "lLotSize": "1",
                        "iLotSize": "1",
                        "iBoardLotQty ": "1",
                        "lExpiryDate ": "-1",
                        "dStrikePrice;": "-1",
                        "pExchange": "NSE",
                        "pFaceValue": "1",
                        "dHighPriceRange ": str(int(ltp_d * 110)),  # paise (ref §10.3)
                        "dLowPriceRange ": str(int(ltp_d * 90)),
                        "lFreezeQty": "-1",
                    },
                )
            )
            key = f"NSE:{name}" if group == "EQ" else f"NSE:{name}-{group}"
            tick_d = Decimal(tick) / 100
            self._add(SimInstrument("nse_cm", token, ts, key, 1, tick_d, "EQ"), ltp_d)
        for token, name, quote_name, ltp in (
            ("26000", "NIFTY", "Nifty 50", "24012.55"),
            ("26009", "BANKNIFTY", "Nifty Bank", "52040.10"),
        ):
            cm_rows.append(
                master_row(
                    CM_HEADER,
                    {
                        "pSymbol": token,
                        "pExchSeg": "nse_cm",
                        "pSymbolName": name,
                        "pTrdSymbol": name,
                        "pDesc": quote_name,
                        "dTickSize ": "-1",
                        "lLotSize": "1",
                        "lExpiryDate ": "-1",
                        "dStrikePrice;": "-1",
                        "pExchange": "NSE",
                    },
                )
            )
            inst = SimInstrument(
                "nse_cm",
                quote_name,
                quote_name,
                f"NSE_INDEX:{name}",
                1,
                Decimal("0.05"),
                "INDEX",
                quote_name,
            )
            self._add(inst, Decimal(ltp))

        # nse_fo: NIFTY weekly + monthly, BANKNIFTY two monthlies, SBIN monthly stock F&O.
        week = next_weekday(self.today, 1)  # NSE derivatives expire on Tuesday (rules.md §3.4)
        nm_year, nm_month = divmod(self.today.month, 12)
        month1 = last_weekday_of_month(self.today.year + nm_year, nm_month + 1, 1)
        nm2_year, nm2_month = divmod(self.today.month + 1, 12)
        month2 = last_weekday_of_month(self.today.year + nm2_year, nm2_month + 1, 1)
        self.expiries = {"week": week, "month1": month1, "month2": month2}
        fo_rows: list[list[str]] = []
        fo_token = 35000
        specs = [
            (
                "NIFTY",
                24000,
                50,
                65,
                10,
                1800,
                Decimal("24012.55"),
                [(week, True), (month1, False)],
            ),
            (
                "BANKNIFTY",
                52000,
                100,
                30,
                20,
                600,
                Decimal("52040.10"),
                [(month1, False), (month2, False)],
            ),
            ("SBIN", 810, 10, 750, 10, 45000, Decimal("812.35"), [(month1, False)]),
        ]
        for name, atm, step, lot, fut_tick, freeze, spot, expiries in specs:
            lot = self.lot_sizes.get(name, lot)
            for expiry, weekly in expiries:
                if not weekly:
                    fo_token += 1
                    row, ts, ours = fo_row(
                        FO_HEADER,
                        token=fo_token,
                        name=name,
                        expiry=expiry,
                        option="XX",
                        strike=None,
                        lot=lot,
                        tick_paise=fut_tick,
                        weekly=False,
                        freeze=freeze,
                    )
                    fo_rows.append(row)
                    self._add(
                        SimInstrument(
                            "nse_fo",
                            str(fo_token),
                            ts,
                            f"NFO:{ours}",
                            lot,
                            Decimal(fut_tick) / 100,
                            "FUT",
                        ),
                        spot + 20,
                    )
                for k in range(-40, 41):
                    strike = atm + k * step
                    for option in ("CE", "PE"):
                        fo_token += 1
                        row, ts, ours = fo_row(
                            FO_HEADER,
                            token=fo_token,
                            name=name,
                            expiry=expiry,
                            option=option,
                            strike=strike,
                            lot=lot,
                            tick_paise=5,
                            weekly=weekly,
                            freeze=freeze,
                        )
                        fo_rows.append(row)
                        intrinsic = max(
                            Decimal(0), (spot - strike) if option == "CE" else (strike - spot)
                        )
                        premium = (intrinsic + Decimal(step) * 2 / (1 + abs(k))).quantize(
                            Decimal("0.05")
                        )
                        self._add(
                            SimInstrument(
                                "nse_fo",
                                str(fo_token),
                                ts,
                                f"NFO:{ours}",
                                lot,
                                Decimal("0.05"),
                                option,
                            ),
                            max(premium, Decimal("0.05")),
                        )
        # Two far strikes that have not traded today: one quoted with ltp "0", one left out.
        self.untraded_key = f"NFO:NIFTY{self._stamp(month1)}{24000 + 40 * 50}CE"
        self.missing_key = f"NFO:NIFTY{self._stamp(month1)}{24000 - 40 * 50}PE"
        self.set_ltp(self.untraded_key, None)
        self.set_ltp(self.missing_key, None, omit=True)

        self._files["nse_cm-v1.csv"] = self._csv(CM_HEADER, cm_rows)
        self._files["nse_fo.csv"] = self._csv(FO_HEADER, fo_rows)
        for empty in ("bse_cm-v1.csv", "bse_fo.csv", "cde_fo.csv", "mcx_fo.csv", "nse_com.csv"):
            self._files[empty] = self._csv(FO_HEADER if "fo" in empty else CM_HEADER, [])
        self.master_rows = {"nse_cm": len(cm_rows), "nse_fo": len(fo_rows)}

    @staticmethod
    def _stamp(day: date) -> str:
        return f"{day.day:02d}{MONTHS[day.month - 1]}{day.year % 100:02d}"

    @staticmethod
    def _csv(header: list[str], rows: list[list[str]]) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        return out.getvalue().encode()

    def _default_holdings(self) -> None:
        self.holdings = [
            {
                "displaySymbol": "SBIN",
                "averagePrice": 700.5,
                "quantity": 10,
                "exchangeSegment": "nse_cm",
                "exchangeIdentifier": "3045",
                "holdingCost": 7005.0,
                "mktValue": 8123.5,
                "scripId": "SIM3045",
                "instrumentToken": 3045,
                "instrumentType": "Equity",
                "isAlternateScrip": False,
                "closingPrice": 812.35,
                "symbol": "SBIN",
                "sellableQuantity": 10,
            }
        ]

    # ------------------------------------------------------------------ dispatch

    def _kind(self, method: str, path: str) -> str | None:
        if path == POSITIONS_V2 and not self.positions_v2:
            return None
        kind = _PATHS.get((method, path))
        if kind:
            return kind
        if method == "GET" and path.startswith("/quick/user/orders/"):
            return "order"
        if method == "GET" and path.startswith("/script-details/1.0/quotes/neosymbol/"):
            return "quotes"
        if method == "GET" and path.startswith("/wso2-scripmaster/"):
            return "csv"
        return None

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()  # the headers are in; the body may still be on its way
        kind = self._kind(request.method, request.path)
        raw = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        call = SimCall(
            method=request.method,
            path=request.path,
            kind=kind or "unknown",
            headers=headers,
            query=dict(request.query),
            ip=self.egress_ip,
            raw_path=request.raw_path,
            at=arrived,
        )
        self.calls.append(call)
        if kind is None:
            return self._reply({"message": "not found"}, status=self.missing_path_status)
        ctype = headers.get("content-type", "")
        if raw and ctype.startswith("application/json"):
            with contextlib.suppress(ValueError):
                call.json = json.loads(raw)
        elif raw and ctype.startswith("application/x-www-form-urlencoded"):
            form = parse_qs(raw.decode(), keep_blank_values=True)  # accepts `+` and `%20`
            if "jData" in form:
                with contextlib.suppress(ValueError):
                    call.jdata = json.loads(form["jData"][0])
        mode = self._take_failure(kind, request.path)
        if mode == "expired_after":
            await self._handle(kind, request, call)  # the order IS created/changed
            self.expire_sessions()
            return self._reply(INVALID_SESSION)
        if mode == "odd_code":
            return self._reply(ODD_CODE)
        if mode == "timeout":
            if kind in ORDER_KINDS:
                await self._handle(kind, request, call)  # the order IS created/changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.hang_seconds)
            return self._reply({"stat": "Not_Ok", "errMsg": "too late"})
        if mode == "http500":
            return self._reply_text("Internal Server Error", status=500, ctype="text/plain")
        if mode == "html":
            page = "<html><head><title>502</title></head><body>Bad Gateway</body></html>"
            return self._reply_text(page, status=200, ctype="text/html")
        if mode == "malformed":
            return self._reply_text('{"stat": "Ok", "data": [{"nOrdNo": ', status=200)
        if mode == "throttle":
            body = {"fault": {"code": "900802", "message": "Message throttled out"}}
            return self._reply(body, status=429, extra={"Retry-After": "3"})
        return await self._handle(kind, request, call)

    def _take_failure(self, kind: str, path: str) -> str | None:
        for i, (target, mode) in enumerate(self._fail):
            if target == kind or (target.startswith("/") and path.startswith(target)):
                del self._fail[i]
                return mode
        return None

    def _reply(
        self, body: Any, *, status: int = 200, extra: dict[str, str] | None = None
    ) -> web.Response:
        return self._reply_text(json.dumps(body), status=status, extra=extra)

    def _reply_text(
        self,
        text: str,
        *,
        status: int,
        ctype: str = "application/json",
        extra: dict[str, str] | None = None,
    ) -> web.Response:
        headers = {"Date": format_datetime(datetime.now(UTC) + self.clock_skew, usegmt=True)}
        headers.update(extra or {})
        return web.Response(text=text, status=status, content_type=ctype, headers=headers)

    async def _handle(self, kind: str, request: web.Request, call: SimCall) -> web.Response:
        handler: Callable[[web.Request, SimCall], web.Response]
        handler = getattr(self, "_on_" + kind.replace("-", "_"))
        refusal = self._check_headers(kind, call)
        if refusal is not None:
            return refusal
        return handler(request, call)

    # ------------------------------------------------------------------ order feed (ref §9.1)

    def _feed_handshake(self, text: str) -> SimFeedHandshake:
        form, fields = parse_feed_handshake(text)
        accepted = ("raw", "json") if self.feed_accepts == "both" else (self.feed_accepts,)
        session = self._sessions.get(fields.get("Authorization", ""))
        sid = fields.get("Sid", "")
        valid = (
            form in accepted
            and fields.get("type") == "cn"
            and session is not None
            and session.alive
            and session.sid == sid
        )
        if not valid:
            return SimFeedHandshake(form, "refused", sid)
        return SimFeedHandshake(form, "silent" if self.feed_silent else "acked", sid)

    async def _on_realtime(self, request: web.Request) -> web.StreamResponse:
        self.calls.append(
            SimCall(
                method=request.method,
                path=request.path,
                kind="realtime",
                headers={k.lower(): v for k, v in request.headers.items()},
                query=dict(request.query),
                ip=self.egress_ip,
                raw_path=request.raw_path,
            )
        )
        async with self._feeds.serve(request) as feed:
            greeted = False
            async for message in feed.ws:
                if message.type is not WSMsgType.TEXT or greeted:
                    continue  # nothing after the handshake means anything
                greeted = True
                record = self._feed_handshake(message.data)
                self.feed_handshakes.append(record)
                if record.outcome == "refused":
                    feed.close()  # Kotak drops the connection ([OA])
                elif record.outcome == "acked":
                    feed.ack(json.dumps(FEED_ACK))
            return feed.ws

    # ------------------------------------------------------------------ header checks (ref §2.4)

    def _trade_session(self, call: SimCall) -> SimSession | None:
        session = self._sessions.get(call.headers.get("auth", ""))
        if session is None or not session.alive or session.sid != call.headers.get("sid"):
            return None
        return session

    def _check_headers(self, kind: str, call: SimCall) -> web.Response | None:
        h = call.headers
        if kind == "csv":
            return None  # the CDN is unauthenticated (ref §7.2)
        if kind in ("login", "validate"):
            if h.get("authorization") != self.access_token or h.get("neo-fin-key") != "neotradeapi":
                return self._reply(GATEWAY_INVALID, status=401)
            return None
        if kind in MARKET_KINDS:
            if h.get("authorization") != self.access_token:
                return self._reply(GATEWAY_INVALID, status=401)
            return None
        if kind in ORDER_KINDS or kind == "client-ip":
            if "authorization" in h and h["authorization"] != self.access_token:
                return self._reply(GATEWAY_INVALID, status=401)
            session = self._trade_session(call)
            if session is None:
                return self._reply(INVALID_SESSION)  # HTTP 200 (ref §8, Kotak-Neo issue #280)
            if kind == "client-ip":
                return None
            # Static-IP rules (ref §11): whitelist first, then the session's own IP.
            if call.ip not in self.whitelisted_ips:
                return self._reply(IP_NOT_WHITELISTED)
            if call.ip != session.ip:
                return self._reply(IP_MISMATCH)
            if not h.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                body = {"stat": "Not_Ok", "stCode": 400, "errMsg": "bad content"}
                return self._reply(body, status=400)
            return None
        if kind == "check-margin" and self._trade_session(call) is None:
            return self._reply(INVALID_SESSION)  # HTTP 200, seen on check-margin (ref §6.4)
        if kind in REPORT_KINDS:
            if self._trade_session(call) is None:
                # ref §8: HTTP 403 "Invalid session, please re-login" (body shape undocumented).
                return self._reply({"message": "Invalid session, please re-login"}, status=403)
            return None
        return None

    # ------------------------------------------------------------------ login (ref §2)

    def _login_fail(self, code: int, message: str) -> web.Response:
        return self._reply({"stCode": code, "errMsg": message, "status": "failure"})

    def _session_data(self, token: str, sid: str, k_type: str) -> dict[str, Any]:
        return {
            "token": token,
            "sid": sid,
            "rid": str(uuid.uuid4()),
            "isUserPwdExpired": False,
            "ucc": self.ucc,
            "greetingName": "SIM USER",
            "isTrialAccount": False,
            "dataCenter": self.data_center,
            "mfAccess": 1,
            "dataCenterMap": None,
            "dormancyStatus": "A",
            "clientType": "RI",
            "isNRI": False,
            "kId": "ABCDE1234F",
            "kType": k_type,
            "status": "success",
        }

    def _on_login(self, request: web.Request, call: SimCall) -> web.Response:
        body = call.json if isinstance(call.json, dict) else {}
        for name, label in (("mobileNumber", "MobileNumber"), ("ucc", "Ucc"), ("totp", "Totp")):
            if not isinstance(body.get(name), str) or not body[name]:
                return self._reply(
                    {"error": [{"code": "400", "message": f"Missing required field '{label}'"}]}
                )
        if body["ucc"] != self.ucc:
            return self._login_fail(429, "Invalid UCC")  # SDK fixture shape (ref §2.1)
        if body["mobileNumber"] != self.mobile:
            return self._login_fail(401, "Invalid mobile number")
        totp = body["totp"]
        ok = (
            self.expected_totp(totp)
            if callable(self.expected_totp)
            else (totp == str(self.expected_totp))
        )
        if not ok:
            return self._login_fail(401, "Invalid TOTP")
        token, sid = "view-" + secrets.token_hex(16), str(uuid.uuid4())
        self._views[token] = sid
        return self._reply({"data": self._session_data(token, sid, "View")})

    def _on_validate(self, request: web.Request, call: SimCall) -> web.Response:
        view_token = call.headers.get("auth", "")
        if self._views.get(view_token) != call.headers.get("sid"):
            return self._login_fail(401, "Invalid session")
        body = call.json if isinstance(call.json, dict) else {}
        if not isinstance(body.get("mpin"), str) or not body["mpin"]:
            return self._reply(
                {"error": [{"code": "400", "message": "Missing required field 'Mpin'"}]}
            )
        if body["mpin"] != self.mpin:
            return self._login_fail(401, "Invalid MPIN")  # SDK fixture shape (ref §2.2)
        del self._views[view_token]  # the view pair is used once (ref §2)
        token, sid = "trade-" + secrets.token_hex(16), str(uuid.uuid4())
        self._sessions[token] = SimSession(token, sid, call.ip)
        data = self._session_data(token, sid, "Trade")
        data["baseUrl"] = self.url
        return self._reply({"data": data})

    def _on_client_ip(self, request: web.Request, call: SimCall) -> web.Response:
        stamp = datetime.now(IST).strftime("%Y-%m-%d %H:%M:%S.000")
        return self._reply(
            {"data": [{"ip": call.ip, "time": stamp}], "stCode": 1000, "status": "success"}
        )

    # ------------------------------------------------------------------ orders (ref §4)

    def _next_order_no(self) -> str:
        self._order_seq += 1
        return f"{self.today:%y%m%d}{self._order_seq:09d}"

    @staticmethod
    def _invalid(message: str) -> web.Response:
        body = {"stat": "Not_Ok", "stCode": 400, "errMsg": message}
        return web.Response(text=json.dumps(body), status=400, content_type="application/json")

    def _check_strings(self, data: dict[str, Any], required: tuple[str, ...]) -> str | None:
        for key in required:
            if key not in data:
                return f"missing {key}"
        for key, value in data.items():
            if key == "ig" and value is None:
                continue
            if not isinstance(value, str):
                return f"{key} must be a string"  # ref §3: every jData value is a string
            if key in ("pr", "tp", "qt", "dq", "mp") and value.strip() in ("0.0", "0.00"):
                return f"{key}: zero must be sent as 0"  # [OA]: "0.0" is rejected
        return None

    def _on_place(self, request: web.Request, call: SimCall) -> web.Response:
        data = call.jdata
        if not isinstance(data, dict):
            return self._invalid("jData missing")
        problem = self._check_strings(
            data, ("am", "dq", "es", "mp", "pc", "pr", "pt", "qt", "rt", "tp", "ts", "tt")
        )
        if problem:
            return self._invalid(problem)
        tag = data.get("ig") or ""
        if tag and any(o.tag == tag for o in self.orders.values()):  # cancelled ones too
            return self._reply(DUPLICATE_TAG[self.duplicate_tag_code])
        if data["es"] not in ("nse_cm", "bse_cm", "nse_fo", "bse_fo", "cde_fo", "mcx_fo"):
            return self._reply({"stat": "Not_Ok", "stCode": 1006, "errMsg": "Invalid Exchange"})
        inst = next(
            (
                i
                for i in self._instruments.values()
                if i.segment == data["es"] and i.trading_symbol == data["ts"] and i.kind != "INDEX"
            ),
            None,
        )
        if inst is None:
            return self._reply({"stat": "Not_Ok", "stCode": 1007, "errMsg": "Invalid Symbol"})
        if data["tt"] not in ("B", "S"):
            return self._invalid("tt must be B or S")
        if data["pt"] not in ("L", "MKT", "SL", "SL-M"):
            return self._invalid("invalid pt")
        qty = int(data["qt"]) if data["qt"].isdigit() else 0
        if qty <= 0 or qty % inst.lot:
            return self._reply(
                {
                    "stat": "Not_Ok",
                    "stCode": 1009,
                    "errMsg": "please provide valid lotwise quantity",
                }
            )
        price, trigger = Decimal(data["pr"]), Decimal(data["tp"])
        if data["pt"] in ("L", "SL") and price <= 0:
            return self._invalid("price must be greater than 0 for L/SL")
        order = SimOrder(
            no=self._next_order_no(),
            inst=inst,
            side=data["tt"],
            qty=qty,
            price_type=data["pt"],
            price=price,
            trigger=trigger,
            product=data["pc"],
            validity=data["rt"],
            tag=data.get("ig") or "",
            status="trigger pending" if data["pt"] == "SL" else "open",
        )
        self.orders[order.no] = order
        self._touch(order, "put order req received")
        if data["pt"] == "SL-M":
            order.status, order.reason = "rejected", "Market order with Algo Id not allowed"
        elif data["pt"] == "MKT":
            ltp = self._ltp.get(f"{inst.segment}|{inst.token}")
            if ltp is None:
                order.status, order.reason = "rejected", "LTP not available for market protection"
            else:  # Kotak converts MKT into a protected limit (ref §11)
                order.price_type = "L"
                order.price = protected_price(ltp, order.side, inst.kind, inst.tick)
        elif price % inst.tick or (data["pt"] == "SL" and trigger % inst.tick):
            order.status = "rejected"
            order.reason = f"Price is not a multiple of tick size {inst.tick}"
        self._touch(order)
        return self._reply({"stat": "Ok", "nOrdNo": order.no, "stCode": 200})

    def _find_order(self, number: Any) -> SimOrder | None:
        return self.orders.get(number) if isinstance(number, str) else None

    def _on_modify(self, request: web.Request, call: SimCall) -> web.Response:
        data = call.jdata
        if not isinstance(data, dict):
            return self._invalid("jData missing")
        problem = self._check_strings(data, ("no", "qt", "pr", "pt"))
        if problem:
            return self._invalid(problem)
        order = self._find_order(data["no"])
        if order is None:
            return self._reply({"stat": "Not_Ok", "stCode": 1008, "errMsg": "Order not found"})
        if order.status in ("complete", "rejected", "cancelled"):
            return self._reply(ORDER_COMPLETED)
        qty = int(data["qt"]) if data["qt"].isdigit() else 0
        if qty <= 0 or qty % order.inst.lot or qty < order.filled:
            return self._reply(
                {
                    "stat": "Not_Ok",
                    "stCode": 1009,
                    "errMsg": "please provide valid lotwise quantity",
                }
            )
        order.qty, order.price = qty, Decimal(data["pr"])
        order.price_type, order.trigger = data["pt"], Decimal(data.get("tp") or "0")
        order.validity = data.get("vd", order.validity)
        order.status = "trigger pending" if order.price_type == "SL" else "open"
        self._touch(order, "modified")
        self._touch(order)
        return self._reply({"stat": "Ok", "nOrdNo": order.no, "stCode": 200})

    def _on_cancel(self, request: web.Request, call: SimCall) -> web.Response:
        data = call.jdata
        if not isinstance(data, dict):
            return self._invalid("jData missing")
        problem = self._check_strings(data, ("on", "am"))
        if problem:
            return self._invalid(problem)
        order = self._find_order(data["on"])
        if order is None:
            return self._reply({"stat": "Not_Ok", "stCode": 1008, "errMsg": "Order not found"})
        if order.status in ("complete", "rejected", "cancelled"):
            return self._reply(ORDER_COMPLETED)
        order.status = "cancelled"
        order.cancelled = order.qty - order.filled
        self._touch(order)
        return self._reply({"stat": "Ok", "nOrdNo": order.no, "stCode": 200})

    # ------------------------------------------------------------------ reports (ref §5, §6)

    def _touch(self, order: SimOrder, status: str | None = None) -> None:
        order.updated = datetime.now(IST)
        row = self._order_row(order)
        if status is not None:
            row["ordSt"] = status
        self.push_feed({"type": "order", "data": row})  # one frame per lifecycle step (ref §9.1)
        history = {
            **row,
            "exchOrdId": row["exOrdId"],
            "ordDur": order.validity,
            "dclQty": 0,
            "exch": "NSE",
            "flDtTm": row["ordDtTm"],
        }
        order.history.insert(0, history)

    def _order_row(self, order: SimOrder) -> dict[str, Any]:
        inst = order.inst
        stamp = order.updated
        return {
            "actId": self.ucc,
            "algId": "NA",
            "avgPrc": _money(order.avg),
            "cnlQty": order.cancelled,
            "dscQty": 0,
            "exCfmTm": stamp.strftime("%d-%b-%Y %H:%M:%S"),
            "exOrdId": f"1100000{order.no[-8:]}",
            "exSeg": inst.segment,
            "fldQty": order.filled,
            "boeSec": int(stamp.timestamp()),
            "mktPro": "0",
            "nOrdNo": order.no,
            "ordDtTm": stamp.strftime("%d-%b-%Y %H:%M:%S"),
            "ordSrc": "NEOTRADEAPI",
            "prod": order.product,
            "prc": _money(order.price),
            "prcTp": order.price_type,
            "qty": order.qty,
            "rejRsn": order.reason,
            "stat": "Ok",
            "ordSt": order.status,
            "sym": inst.trading_symbol.split("-")[0],
            "tckSz": f"{inst.tick:.4f}",
            "tok": inst.token,
            "trnsTp": order.side,
            "trgPrc": _money(order.trigger),
            "trdSym": inst.trading_symbol,
            "unFldSz": order.qty - order.filled - order.cancelled,
            "vldt": order.validity,
            "lotSz": str(inst.lot),
            "multiplier": "1",
            "precision": "2",
            "hsUpTm": stamp.strftime("%Y/%m/%d %H:%M:%S"),
            "GuiOrdId": order.tag,
            "it": "EQ" if inst.segment == "nse_cm" else "OPTIDX",
            "updRecvTm": int(stamp.timestamp() * 1e9),
        }

    def _book(self, rows: list[dict[str, Any]], stat: str = "Ok") -> web.Response:
        if not rows:
            return self._reply(NO_DATA)  # seen live for an empty book (ref §5)
        return self._reply({"stat": stat, "data": rows, "stCode": 200})

    def _on_orders(self, request: web.Request, call: SimCall) -> web.Response:
        return self._book([self._order_row(o) for o in reversed(list(self.orders.values()))])

    def _on_order(self, request: web.Request, call: SimCall) -> web.Response:
        order = self.orders.get(request.path.rsplit("/", 1)[-1])
        return self._book([self._order_row(order)] if order else [])

    def _on_history(self, request: web.Request, call: SimCall) -> web.Response:
        data = call.jdata or {}
        order = self._find_order(data.get("nOrdNo"))
        return self._book(list(order.history) if order else [])

    def _on_trades(self, request: web.Request, call: SimCall) -> web.Response:
        rows = [{k: v for k, v in t.items() if not k.startswith("_")} for t in self.trades]
        return self._book(rows, stat="ok")  # lower-case in the SDK sample (ref §5)

    def _on_positions(self, request: web.Request, call: SimCall) -> web.Response:
        agg: dict[tuple[str, str, str], dict[str, Any]] = {}
        for trade in self.trades:
            inst = self._instruments[f"{trade['exSeg']}|{trade['_tok']}"]
            key = (inst.segment, inst.token, trade["prod"])
            row = agg.setdefault(
                key,
                {
                    "actId": self.ucc,
                    "exSeg": inst.segment,
                    "tok": inst.token,
                    "trdSym": inst.trading_symbol,
                    "prod": trade["prod"],
                    "lotSz": str(inst.lot),
                    "multiplier": "1",
                    "genNum": "1",
                    "genDen": "1",
                    "prcNum": "1",
                    "prcDen": "1",
                    "precision": "2",
                    "_bq": 0,
                    "_sq": 0,
                    "_ba": Decimal(0),
                    "_sa": Decimal(0),
                },
            )
            amount = Decimal(trade["avgPrc"]) * trade["fldQty"]
            if trade["trnsTp"] == "B":
                row["_bq"] += trade["fldQty"]
                row["_ba"] += amount
            else:
                row["_sq"] += trade["fldQty"]
                row["_sa"] += amount
        rows = []
        for row in agg.values():
            ltp = self._ltp.get(f"{row['exSeg']}|{row['tok']}")
            rows.append(
                {
                    **{k: v for k, v in row.items() if not k.startswith("_")},
                    "cfBuyQty": "0",
                    "cfSellQty": "0",
                    "cfBuyAmt": "0.00",
                    "cfSellAmt": "0.00",
                    "flBuyQty": str(row["_bq"]),
                    "flSellQty": str(row["_sq"]),
                    "buyAmt": _money(row["_ba"]),
                    "sellAmt": _money(row["_sa"]),
                    "ltp": _money(ltp) if ltp else "0",
                }
            )
        return self._book(rows)

    def _on_holdings(self, request: web.Request, call: SimCall) -> web.Response:
        return self._reply({"data": self.holdings})  # no `stat` (ref §6.2)

    def _on_limits(self, request: web.Request, call: SimCall) -> web.Response:
        data = call.jdata or {}
        if any(data.get(k) != "ALL" for k in ("seg", "exch", "prod")):
            return self._invalid("seg/exch/prod must be ALL")
        return self._reply(self.limits)

    def _funds_available(self) -> Decimal:
        """What the adapter's funds() calls available ([OA] formula, ref §6.3) less MarginUsed."""
        lim = self.limits
        return (
            Decimal(lim["CollateralValue"])
            + Decimal(lim["RmsPayInAmt"])
            - Decimal(lim["RmsPayOutAmt"])
            + Decimal(lim["Collateral"])
            - Decimal(lim["MarginUsed"])
        )

    def _on_check_margin(self, request: web.Request, call: SimCall) -> web.Response:
        """ref §6.4. Validates the SDK's jData (strings; `trgPrc` and the bracket keys may be null
        or absent, as [OA] omits them), then applies a simple rule:

            price     = `prc`, or the LTP when `prc` is "0" (MKT)
            ordMrgn   = qty x price x margin_rates[prod]     (CNC/NRML 100 %, MTF 50 %, MIS 20 %)
            available = limits available (as funds()) - MarginUsed
            insufFund = max(0, ordMrgn - available)

        The reply mirrors the two published samples: when the order fits, `rmsVldtd "OK"` with
        `reqdMrgn` and `avlMrgn` zero and the figures in `ordMrgn`/`avlCash` (ref §6.4 sample);
        on a shortfall, `reqdMrgn = ordMrgn`, `avlMrgn = avlCash`, `insufFund` the gap and
        `rmsVldtd` the number 78 (an older neo_api_client doc sample). Six decimals, as sampled.
        """
        data = call.jdata
        if not isinstance(data, dict):
            return self._invalid("jData missing")
        required = ("exSeg", "prc", "prcTp", "prod", "qty", "tok", "trnsTp", "brkName", "brnchId")
        for key in required:
            if not isinstance(data.get(key), str):
                return self._invalid(f"{key} must be a string")
        for key in ("trgPrc", *MARGIN_BRACKET_KEYS):
            if data.get(key) is not None and not isinstance(data[key], str):
                return self._invalid(f"{key} must be a string or null")
        if (data["brkName"], data["brnchId"]) != ("KOTAK", "ONLINE"):
            return self._invalid("brkName/brnchId")
        if data["prcTp"] not in ("L", "MKT", "SL", "SL-M") or data["trnsTp"] not in ("B", "S"):
            return self._invalid("prcTp/trnsTp")
        rate = self.margin_rates.get(data["prod"])
        if rate is None:
            return self._invalid("prod")
        if not data["qty"].isdigit() or int(data["qty"]) <= 0:
            return self._invalid("qty")
        inst = self._instruments.get(f"{data['exSeg']}|{data['tok']}")
        if inst is None or inst.kind == "INDEX":
            return self._reply({"stat": "Not_Ok", "stCode": 1007, "errMsg": "Invalid Symbol"})
        price = Decimal(data["prc"])
        if not price:
            price = self._ltp.get(f"{inst.segment}|{inst.token}") or Decimal(0)
        order_margin = int(data["qty"]) * price * rate
        available = self._funds_available()
        used = Decimal(self.limits["MarginUsed"])
        short = max(Decimal(0), order_margin - available)

        def six(value: Decimal) -> str:
            return f"{value:.6f}"

        fits = not short
        return self._reply(
            {
                "avlCash": six(available),
                "totMrgnUsd": six(used + order_margin),
                "mrgnUsd": six(used),
                "ordMrgn": six(order_margin),
                "rmsVldtd": "OK" if fits else 78,
                "reqdMrgn": six(Decimal(0) if fits else order_margin),
                "avlMrgn": six(Decimal(0) if fits else available),
                "insufFund": six(short),
                "stat": "Ok",
                "stCode": 200,
            }
        )

    # ------------------------------------------------------------------ market data (ref §7)

    def _on_quotes(self, request: web.Request, call: SimCall) -> web.Response:
        rest = request.path[len("/script-details/1.0/quotes/neosymbol/") :]
        listing, _, _quote_type = rest.rpartition("/")
        entries = [e for e in listing.split(",") if e]
        if len(entries) > 50:
            body = {"stat": "Not_Ok", "emsg": "max 50 instruments per request", "stCode": 400}
            return self._reply(body, status=400)
        out: list[dict[str, Any]] = []
        known = 0
        for entry in entries:
            seg, _, token = entry.partition("|")
            inst = self._instruments.get(f"{seg}|{token}")
            if inst is None:
                continue
            known += 1
            ref = f"{seg}|{token}"
            if ref in self._omitted:
                continue
            out.append(self._quote(inst, self._ltp.get(ref)))
        if entries and not known:
            return self._reply({"stat": "Not_Ok", "emsg": "Invalid neosymbol", "stCode": 1009})
        return self._reply(out)

    def _quote(self, inst: SimInstrument, ltp: Decimal | None) -> dict[str, Any]:
        def p(value: Decimal) -> str:
            return f"{value:.4f}"

        element: dict[str, Any] = {
            "exchange_token": inst.token,
            "display_symbol": inst.trading_symbol,
            "exchange": inst.segment,
            "lstup_time": str(int(datetime.now(UTC).timestamp())),
            "ltp": p(ltp) if ltp else "0",
            "last_traded_quantity": "0" if not ltp else "50",
            "total_buy": "0",
            "total_sell": "0",
            "last_volume": "0" if not ltp else "123456",
            "avg_cost": p(ltp) if ltp else "0",
            "open_int": "0",
            "change": "0",
            "per_change": "0",
            "year_high": "0",
            "year_low": "0",
        }
        if ltp:
            tick = inst.tick
            element["low_price_range"] = p((ltp * Decimal("0.9") / tick).to_integral_value() * tick)
            element["high_price_range"] = p(
                (ltp * Decimal("1.1") / tick).to_integral_value() * tick
            )
            element["ohlc"] = {
                "open": p(ltp),
                "high": p(ltp + tick),
                "low": p(ltp - tick),
                "close": p(ltp),
            }
            element["depth"] = {
                "buy": [
                    {"price": p(ltp - tick * i), "quantity": "100", "orders": "2"}
                    for i in range(1, 6)
                ],
                "sell": [
                    {"price": p(ltp + tick * i), "quantity": "100", "orders": "2"}
                    for i in range(1, 6)
                ],
            }
        else:
            element["low_price_range"] = "0"
            element["high_price_range"] = "0"
            element["ohlc"] = {"open": "0", "high": "0", "low": "0", "close": "0"}
            element["depth"] = None  # may be null (ref §7.1, [OA])
        return element

    def _on_file_paths(self, request: web.Request, call: SimCall) -> web.Response:
        base = f"{self.url}/wso2-scripmaster/v1/prod"
        day = self.today.isoformat()
        paths = [
            f"{base}/{day}/transformed/cde_fo.csv",
            f"{base}/{day}/transformed/mcx_fo.csv",
            f"{base}/{day}/transformed/nse_fo.csv",
            f"{base}/{day}/transformed/bse_fo.csv",
            f"{base}/{day}/transformed/nse_com.csv",
            f"{base}/{day}/transformed-v1/bse_cm-v1.csv",
            f"{base}/{day}/transformed-v1/nse_cm-v1.csv",
        ]
        return self._reply({"data": {"filesPaths": paths, "baseFolder": base}})

    def _on_csv(self, request: web.Request, call: SimCall) -> web.Response:
        parts = request.path.split("/")
        if len(parts) < 7 or parts[4] != self.today.isoformat() or parts[-1] not in self._files:
            return self._reply_text("<Error>AccessDenied</Error>", status=403, ctype="text/xml")
        return web.Response(body=self._files[parts[-1]], content_type="text/csv")


def kotak_config(sim: KotakSimulator, cache_dir: Any, **overrides: Any) -> Any:
    """A `KotakConfig` pointing at this simulator (imported lazily: fakes do not need brokers)."""
    from brokers.kotak import KotakConfig

    values: dict[str, Any] = {
        "mobile": "98765 43210",
        "ucc": sim.ucc,
        "access_token": sim.access_token,
        "mpin": sim.mpin,
        "cache_dir": cache_dir,
        "login_url": sim.login_url,
    }
    values.update(overrides)
    return KotakConfig(**values)
