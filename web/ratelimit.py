"""A per-client token bucket for public write endpoints (events). In-process: behind several
web-app replicas the load balancer's limit is the one that counts."""

from __future__ import annotations

import threading
import time


class RateLimiter:
    def __init__(self, rate_per_second: float, burst: int, max_clients: int = 100_000) -> None:
        self.rate = rate_per_second
        self.burst = burst
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(client, (float(self.burst), now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if len(self._buckets) >= self.max_clients and client not in self._buckets:
                self._buckets.clear()  # bounded memory under a flood of new addresses
            if tokens < 1:
                self._buckets[client] = (tokens, now)
                return False
            self._buckets[client] = (tokens - 1, now)
            return True
