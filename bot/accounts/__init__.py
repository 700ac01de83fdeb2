"""One broker account: the IP gate, the session, the call policy and the order-rate limiter. The
only door from the core to a broker session."""

from bot.accounts.egress import EgressChecker, EgressReading, IPAddress, parse_ip
from bot.accounts.limiter import SlidingWindowLimiter
from bot.accounts.session_file import SavedSession, SessionFile
from bot.accounts.supervisor import IST, NO_WHITELIST_WARNING, SessionStatus, Supervisor, Whitelist
from bot.accounts.totp import TotpSource, check_seed

__all__ = [
    "IST",
    "NO_WHITELIST_WARNING",
    "EgressChecker",
    "EgressReading",
    "IPAddress",
    "SavedSession",
    "SessionFile",
    "SessionStatus",
    "SlidingWindowLimiter",
    "Supervisor",
    "TotpSource",
    "Whitelist",
    "check_seed",
    "parse_ip",
]
