"""Which IP address does this host's traffic leave from?

Brokers accept order calls only from a whitelisted static IP (SEBI retail-algo rules, in force
2026-04-01), so each account's gate must know the egress IP. It asks IP echo services
(IP_CHECK_URLS, tried in order with short timeouts). Each answer's HTTP `Date` header also
gives a clock-skew reading, because TOTP logins fail when the local clock is off.

Environment proxy variables are ignored (`trust_env=False`), as in the broker's client: an IP
learnt through a proxy the broker's traffic does not take would open the gate for the wrong host.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from brokers.network import describe_failure
from brokers.tls import tls_context

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_ip(text: str) -> IPAddress | None:
    """A bare address (ipify, checkip) or `{"ip": "..."}`; None when it is neither. IPv4-mapped
    IPv6 addresses are normalized to IPv4 so the same host compares equal either way."""
    value = text.strip().strip('"')
    if value.startswith("{"):
        try:
            value = str(json.loads(value).get("ip", ""))
        except (ValueError, AttributeError):
            return None
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def clock_skew(date_header: str | None, local: datetime) -> float | None:
    """Seconds the server's clock is ahead of ours (negative: behind), from an HTTP Date."""
    if not date_header:
        return None
    try:
        server = parsedate_to_datetime(date_header)
    except (TypeError, ValueError):
        return None
    if server.tzinfo is None:
        server = server.replace(tzinfo=UTC)
    return (server - local).total_seconds()


@dataclass(frozen=True, slots=True)
class EgressReading:
    ip: IPAddress | None
    source: str  # the URL that answered, "broker", or "" when nothing did
    at: datetime
    skew_seconds: float | None = None
    error: str | None = None


class EgressChecker:
    def __init__(
        self,
        urls: list[str],
        *,
        timeout: float = 3.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._urls = urls
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=True,
            trust_env=False,
            verify=tls_context(),
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def check(self) -> EgressReading:
        """The first service that answers with an address wins; failures are summarized, not
        raised, so the caller decides what an unknown IP means (the gate fails closed)."""
        problems = []
        for url in self._urls:
            try:
                response = await self._client.get(url)
            except httpx.HTTPError as exc:
                problems.append(describe_failure(exc, httpx.URL(url).host))
                continue
            now = datetime.now(UTC)
            ip = parse_ip(response.text) if response.status_code == 200 else None
            if ip is None:
                host = httpx.URL(url).host
                problems.append(f"{host} answered HTTP {response.status_code} without an address")
                continue
            skew = clock_skew(response.headers.get("date"), now)
            return EgressReading(ip, url, now, skew)
        error = "; ".join(problems) or "no IP check service is configured"
        log.warning("could not learn the egress IP: %s", error)
        return EgressReading(None, "", datetime.now(UTC), error=error)
