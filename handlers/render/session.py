"""The /session view: broker session, egress IP, whitelist and the order gate, field by field."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.accounts import SessionStatus
from handlers.render.markup import esc

__all__ = ["ip_registration_hint", "render_status"]

IST = ZoneInfo("Asia/Kolkata")


def _when(at: datetime | None) -> str:
    return "—" if at is None else f"{at.astimezone(IST):%d %b %H:%M:%S} IST"


def _age(at: datetime | None) -> str:
    if at is None:
        return ""
    minutes = int((datetime.now(UTC) - at).total_seconds() // 60)
    return f" ({minutes // 60} h {minutes % 60} min ago)"


# Where a broker that registers static IPs per API key keeps them (`SessionStatus.key_prefix`).
_IP_SETTINGS = {"mstock": "trade.mstock.com → Trading APIs → API Settings"}


def ip_registration_hint(s: SessionStatus) -> str | None:
    """Plain words: where this broker's static IPs are registered and on which key, or None."""
    if s.key_prefix is None:
        return None
    where = _IP_SETTINGS.get(s.broker, "the broker's API settings")
    return (
        f"Static IPs are registered per API key, at {where}: check Primary and Secondary IP "
        f"there for the key in use (key {s.key_prefix}…)."
    )


def render_status(s: SessionStatus) -> str:
    lines = [
        f"<b>Session</b> · {esc(s.broker)}",
        "Orders: " + ("✅ open" if s.orders_open else f"⛔ blocked: {esc(s.blocked_reason)}"),
        f"Account: {esc(s.account or '—')}",
        f"Session created: {_when(s.created_at)}{_age(s.created_at)}",
        f"Session IP: {esc(s.session_ip or '—')}",
        f"Egress IP now: {esc(s.egress_ip or 'unknown')}"
        + (f" (from {esc(s.egress_source)}, {_when(s.egress_checked_at)})" if s.egress_ip else ""),
        f"Whitelisted: {esc(s.whitelist)}",
        "Clock skew: " + ("—" if s.skew_seconds is None else f"{s.skew_seconds:+.1f} s"),
        f"Next login: {_when(s.next_relogin)}",
        f"Last error: {esc(s.last_error or s.egress_error or 'none')}",
    ]
    hint = ip_registration_hint(s)
    if hint is not None:
        lines.append(f"IP registration: {esc(hint)}")
    lines += [f"⚠️ {esc(w)}" for w in s.warnings]
    return "\n".join(lines)
