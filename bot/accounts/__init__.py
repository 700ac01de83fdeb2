"""One broker account: the IP gate, the session, the call policy and the order-rate limiter,
composed by `Account`, the only door from the core to a broker session."""

from bot.accounts.account import Account
from bot.accounts.calls import ip_refusal
from bot.accounts.egress import EgressChecker, EgressReading, IPAddress, parse_ip
from bot.accounts.gate import Whitelist
from bot.accounts.limiter import SlidingWindowLimiter
from bot.accounts.session import IST
from bot.accounts.session_file import SavedSession, SessionFile
from bot.accounts.status import NO_WHITELIST_WARNING, SessionStatus
from bot.accounts.totp import TotpClock, TotpSource, check_seed

__all__ = [
    "IST",
    "NO_WHITELIST_WARNING",
    "Account",
    "EgressChecker",
    "EgressReading",
    "IPAddress",
    "SavedSession",
    "SessionFile",
    "SessionStatus",
    "SlidingWindowLimiter",
    "TotpClock",
    "TotpSource",
    "Whitelist",
    "check_seed",
    "ip_refusal",
    "parse_ip",
]
