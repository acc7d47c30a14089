"""Token buckets per client, and which address a request comes from behind proxies.

The chat channels (Rasa's Python 3.10) and the web app (3.11) share this, so standard library
only. A bucket holds up to `burst` tokens and gains `rate` tokens a second; each message takes
one. A client may send `burst` messages at once and `rate` a second after that; one that pauses
gets its burst back. Buckets live in this process: several replicas each count their own (a
shopper's Socket.IO connection stays on one replica anyway, see bot/channels/socketio.py).

Memory is bounded: at most `max_clients` buckets, the least recently used dropped first. That is
almost always a full one, and a full bucket is the same as none, so a flood of new addresses
cannot reset the buckets of the clients that are being limited (the old code cleared them all).
Thread-safe (one lock held for microseconds, never across an await), so the same limiter serves
the web app's thread pool and Rasa's event loop.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

Clock = Callable[[], float]


@dataclass(frozen=True)
class Rate:
    """`burst` messages at once, and `burst` more every `seconds`: "30/10" is 30 at once, then 3
    a second. Any token bucket can be written so (seconds = burst / rate)."""

    burst: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.burst / self.seconds

    @classmethod
    def parse(cls, text: str) -> Rate | None:
        """ "N/S" (or "N/Ss"), None for "off"; ValueError naming the text otherwise."""
        spec = str(text).strip().lower()
        if spec in ("off", "none", "0"):
            return None
        match = re.fullmatch(r"(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*s?", spec)
        if not match or int(match[1]) < 1 or float(match[2]) <= 0:
            raise ValueError(f"a rate is 'messages/seconds' such as '30/10', or 'off': {text!r}")
        return cls(int(match[1]), float(match[2]))

    def __str__(self) -> str:
        return f"{self.burst}/{self.seconds:g}"


class RateLimiter:
    """Token buckets keyed by client (module docstring); `clock` is injectable for tests."""

    def __init__(
        self,
        rate_per_second: float,
        burst: int,
        max_clients: int = 100_000,
        clock: Clock = time.monotonic,
    ) -> None:
        self.rate = rate_per_second
        self.burst = burst
        self.max_clients = max_clients
        self.clock = clock
        # client -> (tokens, when counted); insertion order is recency (see _store).
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    @classmethod
    def of(cls, rate: Rate, max_clients: int = 100_000, clock: Clock = time.monotonic):
        return cls(rate.per_second, rate.burst, max_clients, clock)

    def acquire(self, client: str) -> float:
        """Takes a token: 0.0 if there was one, else the seconds until there is (nothing taken)."""
        with self._lock:
            now = self.clock()
            tokens = self._tokens(client, now)
            if tokens >= 1:
                self._store(client, tokens - 1, now)
                return 0.0
            self._store(client, tokens, now)
            return (1 - tokens) / self.rate if self.rate > 0 else math.inf

    def allow(self, client: str) -> bool:
        return self.acquire(client) == 0.0

    def refund(self, client: str) -> None:
        """Gives back a token taken by `acquire` (a message another limit refused)."""
        with self._lock:
            now = self.clock()
            self._store(client, min(float(self.burst), self._tokens(client, now) + 1), now)

    def __len__(self) -> int:
        return len(self._buckets)

    def _tokens(self, client: str, now: float) -> float:
        tokens, counted = self._buckets.get(client, (float(self.burst), now))
        return min(float(self.burst), tokens + max(0.0, now - counted) * self.rate)

    def _store(self, client: str, tokens: float, now: float) -> None:
        self._buckets.pop(client, None)  # re-inserted last: the dict's order is recency
        self._buckets[client] = (tokens, now)
        while len(self._buckets) > self.max_clients:
            del self._buckets[next(iter(self._buckets))]


def acquire_all(limits: Iterable[tuple[RateLimiter, str]]) -> float:
    """One token from each (limiter, client), or none at all: 0.0 when every limit let the
    message through, else the wait of the first that refused, with the tokens already taken
    given back (a shopper refused by their own limit must not use up their address's)."""
    taken: list[tuple[RateLimiter, str]] = []
    for limiter, client in limits:
        wait = limiter.acquire(client)
        if wait > 0:
            for earlier, key in taken:
                earlier.refund(key)
            return wait
        taken.append((limiter, client))
    return 0.0


# -- the client's address --------------------------------------------------------------------


class TrustedProxies:
    """Addresses and networks ("127.0.0.1", "10.0.0.0/8", "::1") whose X-Forwarded-For is
    believed: the shop's own reverse proxies, nothing else."""

    def __init__(self, entries: Iterable[str] = ()) -> None:
        self.networks = []
        for entry in entries:
            try:
                self.networks.append(ipaddress.ip_network(str(entry).strip(), strict=False))
            except ValueError:
                raise ValueError(f"not an address or network: {entry!r}") from None

    @classmethod
    def parse(cls, text: str | Iterable[str] | None) -> TrustedProxies:
        """From "a, b c" (the environment) or a list (credentials)."""
        if text is None:
            return cls()
        items = re.split(r"[\s,]+", text) if isinstance(text, str) else list(text)
        return cls(str(i) for i in items if str(i).strip())

    def __contains__(self, address: object) -> bool:
        ip = _ip(str(address))
        return ip is not None and any(ip in network for network in self.networks)

    def __bool__(self) -> bool:
        return bool(self.networks)


def client_address(
    peer: str, forwarded_for: str | None, trusted: TrustedProxies, peer_trusted: bool = False
) -> str:
    """Who sent a request: its peer, unless the peer is a trusted proxy (by address, or
    `peer_trusted` when the caller proved it otherwise); then the right-most address of
    X-Forwarded-For that is not a trusted proxy.

    Each proxy appends the address it got the request from (nginx:
    `$proxy_add_x_forwarded_for`), so the right end was written by our proxies and everything
    left of the first address they did not trust is whatever the client sent. A forged header
    from an untrusted peer is therefore never read at all.
    """
    peer = _normal(peer)
    if not forwarded_for or not (peer_trusted or peer in trusted):
        return peer
    hops = [_normal(hop) for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop
    return hops[0] if hops else peer  # proxies all the way: the first one is the client


def loopback_address(identity: str) -> str:
    """A stable 127.0.0.x (x from 2 to 254) for one simulated shopper. Tests and benchmarks
    that play many shoppers from this machine bind it (httpx's `local_address`), so that each
    one is its own client to the per-address limit, as real shoppers are."""
    digest = hashlib.blake2s(identity.encode("utf-8"), digest_size=2).digest()
    return f"127.0.0.{2 + int.from_bytes(digest, 'big') % 253}"


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(ip, "ipv4_mapped", None)  # "::ffff:10.0.0.1" from a dual-stack socket
    return mapped or ip


def _normal(address: str) -> str:
    """An address as one key: port and brackets dropped, IPv4-mapped IPv6 as IPv4, and
    anything else (a proxy's "unknown") kept as it is."""
    text = (address or "").strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:5123"
        text = text.split(":", 1)[0]
    ip = _ip(text)
    return str(ip) if ip is not None else text
