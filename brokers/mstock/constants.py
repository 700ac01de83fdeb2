"""mStock Type B wire constants: paths, header values, error codes and texts, state maps, limits.

Copied from `shared/reference/mstock-typeb.md` (cited as "ref §n"). Nothing outside
`brokers.mstock` may import these names: they are the broker's wire vocabulary.
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from typing import Final

from brokers.wire import IST as IST  # re-exported: one definition for both adapters

DEFAULT_BASE_URL: Final = "https://api.mstock.trade"  # ref §1
DEFAULT_WS_URL: Final = "wss://ws.mstock.trade"  # the ticker (ref §1, §7)
API_VERSION: Final = "1"  # `X-Mirae-Version`, mandatory on every call (ref §1)
USER_AGENT: Final = "tradebot-mstock/0.1"

# Paths (ref §12), all under /openapi/typeb.
PATH_LOGIN: Final = "/openapi/typeb/connect/login"
PATH_VERIFY_TOTP: Final = "/openapi/typeb/session/verifytotp"
PATH_PLACE: Final = "/openapi/typeb/orders/regular"
PATH_ORDER: Final = "/openapi/typeb/orders/regular/{order_id}"  # PUT modify, DELETE cancel
PATH_ORDER_BOOK: Final = "/openapi/typeb/orders"
PATH_ORDER_DETAILS: Final = "/openapi/typeb/order/details"
PATH_TRADE_BOOK: Final = "/openapi/typeb/tradebook"
PATH_POSITIONS: Final = "/openapi/typeb/portfolio/positions"
PATH_HOLDINGS: Final = "/openapi/typeb/portfolio/holdings"
PATH_FUNDS: Final = "/openapi/typeb/user/fundsummary"
PATH_MARGIN: Final = "/openapi/typeb/margins/orders"
PATH_QUOTE: Final = "/openapi/typeb/instruments/quote"
PATH_MASTER: Final = "/openapi/typeb/instruments/OpenAPIScripMaster"


class CallKind(StrEnum):
    """Which headers a call carries (ref §1 table) and which timeout applies."""

    LOGIN = "login"  # connect/login: version only
    VERIFY = "verify"  # session/verifytotp: version + private key
    ORDERS = "orders"  # place, modify, cancel: outcome unknown on a read timeout or garbage
    REPORTS = "reports"  # books, details, positions, holdings, funds, margin
    MARKET_DATA = "market_data"  # quotes
    MASTER = "master"  # the instrument list (large, slow)


# Success values of `status` (ref §3): a string on most pages, a boolean on some, "success" on
# cancel-all. Anything else is a failure ("false", false, "error", absent).
STATUS_OK: Final = frozenset({"true", "success"})

# Error codes (ref §3 table, §9).
CODE_SESSION: Final = "IA401"  # JWT missing/expired/invalid: log in again
CODE_FORBIDDEN: Final = "IA403"  # API key expired/suspended, OR the static-IP refusal (§9)
CODE_BAD_REQUEST: Final = frozenset({"IA400", "400"})
CODE_NOT_FOUND: Final = "IA404"
CODE_SERVER: Final = "IA500"
VERSION_EXCEPTION: Final = "VersionException"  # X-Mirae-Version missing: our bug (ref §1)
# Codes whose family proves the backend or the RMS refused the request (ref §3): nothing done.
REJECTION_PREFIXES: Final = ("RS-", "MA")


class Meaning(StrEnum):
    """What a refusal's text says, beyond its code (see `TEXT_PATTERNS`)."""

    IP_REFUSED = "ip_refused"
    NOT_MODIFIABLE = "not_modifiable"
    QUANTITY = "quantity"
    FUNDS = "funds"
    NOT_FOUND = "not_found"


# The one table of refusal texts, first match wins, matched case-insensitively on `message`
# (and `title`/`errors` of a ProblemDetails body). Extend it here when mStock words a known
# refusal a new way. The IP refusal comes with IA403 like an expired key, so only its words
# tell them apart (ref §9, three third-party sources agree on this text); it may come on any
# endpoint.
TEXT_PATTERNS: Final[tuple[tuple[re.Pattern[str], Meaning], ...]] = (
    (
        re.compile(r"\bip address(es)? .*not matching|not matching with current ip", re.I),
        Meaning.IP_REFUSED,
    ),
    (re.compile(r"\b(primary|secondary) ip\b", re.I), Meaning.IP_REFUSED),
    # RS-0034 on modify, RS-00093 on cancel: "Order is Cancelled.Kindly refresh your OrderBook"
    (
        re.compile(r"order is (cancelled|rejected|complete|executed|traded)", re.I),
        Meaning.NOT_MODIFIABLE,
    ),
    (re.compile(r"order does not exs?ist", re.I), Meaning.NOT_FOUND),
    (
        re.compile(r"\blot ?size\b|multiple of lot|invalid quantity|quantity should", re.I),
        Meaning.QUANTITY,
    ),
    # RS-0111: "...FUND LIMIT INSUFFICIENT,AVAILABLE FUND=0,ADDITIONAL REQUIRED FUND=572.36"
    (
        re.compile(r"fund limit insufficient|insufficient fund|margin (shortfall|exceeds)", re.I),
        Meaning.FUNDS,
    ),
)

# Our tag goes in `ordertag`: "< 20 alphanumeric characters" (ref §4.1). mStock documents no
# uniqueness rule, so the adapter refuses a tag it has already used itself (see `client.py`).
TAG_PATTERN: Final = re.compile(r"[A-Za-z0-9]{1,19}")

# At most this many tokens per quote call. Undocumented (ref §13 q10); OpenAlgo sends up to 500
# per call against the live server (ref §6.1), so that much is known to work.
QUOTE_BATCH: Final = 500
QUOTE_MODE: Final = "OHLC"  # ltp plus open/high/low/close (ref §6.1)

# The JWT lasts until midnight IST of the day it was made, at most 12 hours by one doc copy
# (ref §2.6); the `exp` claim, when present and earlier, wins.
MAX_SESSION: Final = timedelta(hours=12)

# Our exchanges <-> the master's `exch_seg` and the quote/order `exchange` (ref §4, §6.4).
EXCHANGES: Final = frozenset({"NSE", "BSE", "NFO", "BFO", "CDS", "MCX"})
# Books name F&O contracts under their cash exchange (ref §4, §5.1): NFO rows say NSE.
FO_EXCHANGE: Final = {
    "NSE": "NFO",
    "BSE": "BFO",
    "NFO": "NFO",
    "BFO": "BFO",
    "CDS": "CDS",
    "MCX": "MCX",
}
DERIVATIVE_TYPES: Final = frozenset(
    {
        "OPTIDX",
        "OPTSTK",
        "FUTIDX",
        "FUTSTK",
        "OPTCUR",
        "FUTCUR",
        "OPTIRC",
        "FUTIRC",
        "FUTCOM",
        "OPTFUT",
        "OPTCOM",
    }
)

# Order values (ref §4 glossary). SL is sent as variety STOPLOSS + STOPLOSS_LIMIT (the current
# glossary's spelling; ref §13 q1 keeps the live one open). SL-M and MARKET never leave the bot.
ORDER_TYPE: Final = {"LIMIT": "LIMIT", "MARKET": "MARKET", "SL": "STOPLOSS_LIMIT"}
ORDER_TYPE_BACK: Final = {
    "LIMIT": "LIMIT",
    "L": "LIMIT",
    "MARKET": "MARKET",
    "MKT": "MARKET",
    "SL": "SL",
    "STOPLOSS_LIMIT": "SL",
    "STOP_LOSS": "SL",
    "SL-M": "SL-M",
    "STOPLOSS_MARKET": "SL-M",
    "STOP_LOSS_MARKET": "SL-M",
}
VARIETY_NORMAL: Final = "NORMAL"
VARIETY_STOPLOSS: Final = "STOPLOSS"
VARIETY_AMO: Final = "AMO"  # ref §4.1: an after-market order; its cancel and modify repeat it
PRODUCT: Final = {"CNC": "DELIVERY", "MIS": "INTRADAY", "NRML": "CARRYFORWARD"}
PRODUCT_BACK: Final = {
    "DELIVERY": "CNC",
    "CNC": "CNC",
    "MTF": "CNC",
    "INTRADAY": "MIS",
    "MIS": "MIS",
    "CO": "MIS",
    "BO": "MIS",
    "CARRYFORWARD": "NRML",
    "NRML": "NRML",
    "MARGIN": "NRML",
}
SIDE_BACK: Final = {"BUY": "BUY", "B": "BUY", "SELL": "SELL", "S": "SELL"}

# `status`/`orderstatus` of an order row, lower-cased (ref §4.5 and OpenAlgo's mapper). An open
# order with a partial fill is promoted to PARTIALLY_FILLED by the mapper; anything not listed
# is treated as pending.
ORDER_STATUS: Final = {
    "pending": "OPEN",
    "o-pending": "OPEN",
    "open": "OPEN",
    "o-modified": "OPEN",
    "modified": "OPEN",
    "trigger pending": "TRIGGER_PENDING",
    "traded": "COMPLETE",
    "trade confirmed": "COMPLETE",
    "complete": "COMPLETE",
    "executed": "COMPLETE",
    "rejected": "REJECTED",
    "o-rejected": "REJECTED",
    "cancelled": "CANCELLED",
    "o-cancelled": "CANCELLED",
    "canceled": "CANCELLED",
}
