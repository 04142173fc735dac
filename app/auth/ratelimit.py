"""Per-key rate limits: a token bucket per (key, bucket name), kept in this process.

Each uvicorn worker keeps its own buckets, so with W workers a key can reach up to W times
the configured rate; docs/api.md says so. A limit of 0 turns a bucket off.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from app.core.errors import TooManyRequests


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    def __init__(self, per_minute: int, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = max(1, burst)
        self.enabled = per_minute > 0
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        self._now = time.monotonic

    def check(self, key: str) -> None:
        """Take one token for ``key`` or raise 429 with the seconds until the next one."""
        if not self.enabled:
            return
        now = self._now()
        with self._lock:
            b = self._buckets.get(key)
            if b is None:
                b = self._buckets[key] = _Bucket(float(self.burst), now)
            b.tokens = min(float(self.burst), b.tokens + (now - b.stamp) * self.rate)
            b.stamp = now
            if b.tokens >= 1.0:
                b.tokens -= 1.0
                return
            wait = math.ceil((1.0 - b.tokens) / self.rate)
        raise TooManyRequests(
            f"rate limit of {round(self.rate * 60)} requests per minute for this key exceeded; "
            f"retry in {wait} s",
            retry_after=wait,
        )
