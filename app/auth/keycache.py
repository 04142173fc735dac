"""A short-lived in-process cache of authenticated keys (saves a database round trip on
every request). Only successful lookups are cached, by the key's SHA-256 digest, for
``HYDRASCOPE_API_KEY_CACHE_SECONDS`` (10): a revoked key stops working within that time in
every server process. 0 turns the cache off.
"""

from __future__ import annotations

import threading
import time

from app.auth.apikeys import Principal, digest

MAX_ENTRIES = 10_000


class KeyCache:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def get(self, presented: str) -> Principal | None:
        if self.seconds <= 0:
            return None
        d = digest(presented)
        with self._lock:
            hit = self._entries.get(d)
            if hit is None:
                return None
            if hit[0] < time.monotonic():
                del self._entries[d]
                return None
            return hit[1]

    def put(self, presented: str, who: Principal) -> None:
        if self.seconds <= 0:
            return
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[digest(presented)] = (time.monotonic() + self.seconds, who)
