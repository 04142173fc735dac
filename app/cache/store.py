"""Rendered GET bodies, kept per server process and valid for one data version.

Every committed unit of work (:func:`app.core.db.transaction`: ingest batches, detection runs,
review decisions, purges) adds one to the database's data version in the same transaction
(:func:`app.core.changes.bump_data`). A request first reads that number (one primary-key read),
then serves the body rendered under the same number, or renders and keeps it. A body is
therefore never older than the newest commit the request could have seen, in every worker
process, and a reviewer who just saved a decision reads it back at once from any worker.

Bodies are kept for the newest version only (a commit empties the cache) and the least
recently used are dropped beyond ``max_bytes``. Keys carry the path, the query string and
whether the caller may see personal data, so a viewer never receives a reviewer's body.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, MutableMapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Rendered:
    body: bytes
    etag: str
    role: str = "viewer"  # the role the route requires (app.cache.middleware checks it)
    route: Any = None  # the route that rendered it (its template labels logs and metrics)


def response_key(scope: MutableMapping[str, Any], personal: bool) -> Hashable:
    """The cache key of a request: its path, its raw query string, and whether the caller
    sees personal data (one function, so the middleware and the routes always agree)."""
    return (scope["path"], scope["query_string"], personal)


#: What an entry costs besides its body and key text: the key tuple, the Rendered record, its
#: ETag string and the LRU links (measured with tracemalloc: ~330 bytes on CPython 3.11).
ENTRY_OVERHEAD = 400


def entry_cost(key: Hashable, rendered: Rendered) -> int:
    """Bytes an entry holds, as the budget counts them: body, key text, fixed overhead. Counting
    the body alone let many small answers to distinct URLs hold several times the budget."""
    key_bytes = (
        sum(len(part) for part in key if isinstance(part, (str, bytes)))
        if isinstance(key, tuple)
        else 0
    )
    return len(rendered.body) + key_bytes + ENTRY_OVERHEAD


class ResponseCache:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.version = -1
        self.size = 0
        self.hits = 0
        self._entries: OrderedDict[Hashable, Rendered] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable, version: int) -> Rendered | None:
        with self._lock:
            found = self._entries.get(key) if version == self.version else None
            if found is None:
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: Hashable, version: int, rendered: Rendered) -> None:
        """Keep ``rendered`` for ``version``; a body rendered under an older version than the
        cache already holds is dropped (a commit landed while it was being rendered)."""
        cost = entry_cost(key, rendered)
        if cost > self.max_bytes // 4:  # one huge body must not flush everything else
            return
        with self._lock:
            if version < self.version:
                return
            if version > self.version:
                self._entries.clear()
                self.size = 0
                self.version = version
            old = self._entries.pop(key, None)
            if old is not None:
                self.size -= entry_cost(key, old)
            self._entries[key] = rendered
            self.size += cost
            while self.size > self.max_bytes:
                dropped_key, dropped = self._entries.popitem(last=False)
                self.size -= entry_cost(dropped_key, dropped)
