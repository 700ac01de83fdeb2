"""What `/session` and the doctor show about an account: built field by field from the gate and
the session, so no token can slip into a view (style.md, absorb 4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.accounts.gate import Gate
from bot.accounts.session import Session

# TOTP codes are 30 s steps checked by the broker's clock; beyond this, logins start to fail.
MAX_SKEW_SECONDS = 15.0
NO_WHITELIST_WARNING = (
    "No static IP is configured (STATIC_IP_PRIMARY). Brokers accept orders only from a "
    "whitelisted IP, so orders may be rejected; I let the broker decide."
)


@dataclass(frozen=True, slots=True)
class SessionStatus:
    """What `/session` and the doctor show, built field by field (no tokens)."""

    broker: str
    account: str | None
    created_at: datetime | None
    session_ip: str | None
    egress_ip: str | None
    egress_source: str
    egress_checked_at: datetime | None
    egress_error: str | None
    whitelist: str
    skew_seconds: float | None
    last_error: str | None
    next_relogin: datetime | None
    orders_open: bool
    blocked_reason: str | None
    warnings: tuple[str, ...]
    resumed: bool = False  # the session was read back from disk, not created by a login
    # The first characters of the API key the broker registers IPs on (`RegistersIPsPerKey`).
    key_prefix: str | None = None


def session_status(
    broker: str,
    gate: Gate,
    session: Session,
    *,
    warn_without_whitelist: bool,
    key_prefix: str | None = None,
) -> SessionStatus:
    """The status now, with the warnings a human should act on (whitelist, clock, IPv6)."""
    warnings = []
    if not gate.whitelist.configured and warn_without_whitelist:
        warnings.append(NO_WHITELIST_WARNING)
    skew = gate.skew_seconds
    if skew is not None and abs(skew) > MAX_SKEW_SECONDS:
        warnings.append(
            f"This server's clock is off by {skew:+.0f} s; TOTP logins fail when it is "
            "more than a few seconds off. Enable NTP (timedatectl set-ntp true)."
        )
    ip = gate.egress_ip
    if ip is not None and ip.version == 6:
        warnings.append("The egress IP is IPv6; Kotak currently supports IPv4 whitelisting.")
    reading = gate.reading
    info = session.info
    return SessionStatus(
        broker=broker,
        account=info.account if info else None,
        created_at=info.created_at if info else None,
        session_ip=str(session.ip) if session.ip else None,
        egress_ip=str(ip) if ip else None,
        egress_source=reading.source if reading else "",
        egress_checked_at=reading.at if reading else None,
        egress_error=gate.egress_error,
        whitelist=gate.whitelist.describe(),
        skew_seconds=skew,
        last_error=session.last_error,
        next_relogin=session.next_relogin,
        orders_open=gate.blocked is None,
        blocked_reason=gate.blocked,
        warnings=tuple(warnings),
        resumed=session.resumed,
        key_prefix=key_prefix,
    )
