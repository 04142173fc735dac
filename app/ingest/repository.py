"""All SQL of ingest: upserts that make re-sending idempotent, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import compress
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.core.db import SQLITE_HAS_JSON, json_key_arrays
from app.ingest.grouping import Columns, Groups, rank_within, take
from app.ingest.seen import SeenSet, StoredKeys, pair_keys
from app.models import (
    Account,
    PaymentMethod,
    PromptSample,
    RequestKey,
)
from graph.arrays import distinct, sorted_lookup
from graph.signals.prompts import BAND_BYTES, pack_bands, packed_bands

_CHUNK = 5_000


def _insert(session: Session, model: Any) -> Any:
    dialect = session.get_bind().dialect.name
    mod = postgresql if dialect == "postgresql" else sqlite
    return mod.insert(model.__table__)


def _execute(session: Session, stmt: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), _CHUNK):
        session.execute(stmt, rows[start : start + _CHUNK])


@dataclass(frozen=True)
class _Upsert:
    """A hand-written upsert for the high-volume tables, run with the driver's executemany.

    SQLAlchemy's per-row parameter processing cost more than the database itself here
    (measured: 4 of 6 seconds per 300k records); these tables hold only integers and text.
    """

    table: str
    columns: tuple[str, ...]
    conflict: tuple[str, ...]
    updates: tuple[tuple[str, str], ...] = ()

    def sql(self, dialect: str) -> str:
        mark = "%s" if dialect == "postgresql" else "?"
        least, greatest = ("least", "greatest") if dialect == "postgresql" else ("min", "max")
        cols = ", ".join(f'"{c}"' for c in self.columns)
        marks = ", ".join(mark for _ in self.columns)
        target = ", ".join(f'"{c}"' for c in self.conflict)
        if not self.updates:
            action = "DO NOTHING"
        else:
            sets = ", ".join(
                f'"{c}" = ' + expr.format(t=self.table, least=least, greatest=greatest)
                for c, expr in self.updates
            )
            action = f"DO UPDATE SET {sets}"
        return f"INSERT INTO {self.table} ({cols}) VALUES ({marks}) ON CONFLICT ({target}) {action}"

    def run(self, session: Session, rows: list[tuple[Any, ...]]) -> int:
        """Upsert ``rows``; return how many rows were inserted or updated."""
        if not rows:
            return 0
        conn = session.connection()
        if conn.dialect.name == "postgresql":
            return self._run_copy(conn, rows)
        sql = self.sql(conn.dialect.name)
        changed = 0
        for start in range(0, len(rows), 50_000):
            result = conn.exec_driver_sql(sql, rows[start : start + 50_000])
            changed += max(result.rowcount, 0)
        return changed

    def _run_copy(self, conn: Any, rows: list[tuple[Any, ...]]) -> int:
        """PostgreSQL: COPY into a temporary table, then one INSERT ... SELECT ... ON CONFLICT.

        psycopg's executemany managed 15k rows/s here; COPY is an order of magnitude faster.
        """
        cur = conn.connection.driver_connection.cursor()
        tmp = f"_in_{self.table}"
        cols = ", ".join(f'"{c}"' for c in self.columns)
        cur.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {tmp} (LIKE {self.table} INCLUDING DEFAULTS) "
            "ON COMMIT DELETE ROWS"
        )
        cur.execute(f"TRUNCATE {tmp}")
        with cur.copy(f"COPY {tmp} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        select_sql = self.sql("postgresql").replace(
            f"VALUES ({', '.join('%s' for _ in self.columns)})", f"SELECT {cols} FROM {tmp}"
        )
        cur.execute(select_sql)
        return int(cur.rowcount)


def _tuples(rows: Columns, columns: Sequence[str], start: int, stop: int) -> list[tuple[Any, ...]]:
    return list(zip(*(rows[c][start:stop].tolist() for c in columns), strict=True))


_SLICE = 50_000


def _run_columns(upsert: _Upsert, session: Session, rows: Columns) -> int:
    """Upsert rows 50,000 at a time (Python tuples cost ~250 bytes a row, and a merged
    transaction can hold a quarter of a million of them); return how many were inserted or
    updated."""
    count = len(rows[upsert.columns[0]])
    changed = 0
    for start in range(0, count, _SLICE):
        changed += upsert.run(session, _tuples(rows, upsert.columns, start, start + _SLICE))
    return changed


_OBSERVATIONS = _Upsert(
    "observations",
    ("account_id", "kind", "value_key", "n", "first_seen", "last_seen"),
    ("account_id", "kind", "value_key"),
    (
        ("n", "{t}.n + excluded.n"),
        ("first_seen", "{least}({t}.first_seen, excluded.first_seen)"),
        ("last_seen", "{greatest}({t}.last_seen, excluded.last_seen)"),
    ),
)
_ACTIVITY = _Upsert(
    "activity",
    ("account_id", "window", "template_key", "n"),
    ("account_id", "window", "template_key"),
    (("n", "{t}.n + excluded.n"),),
)
_USAGE = _Upsert(
    "account_usage",
    ("account_id", "requests", "input_tokens", "output_tokens", "first_seen", "last_seen"),
    ("account_id",),
    (
        ("requests", "{t}.requests + excluded.requests"),
        ("input_tokens", "{t}.input_tokens + excluded.input_tokens"),
        ("output_tokens", "{t}.output_tokens + excluded.output_tokens"),
        ("first_seen", "{least}({t}.first_seen, excluded.first_seen)"),
        ("last_seen", "{greatest}({t}.last_seen, excluded.last_seen)"),
    ),
)
_VALUES = _Upsert("observed_values", ("kind", "value_key", "value"), ("kind", "value_key"))
_TEXTS = _Upsert("template_texts", ("template_key", "value"), ("template_key",))
_REQUEST_KEYS = _Upsert("request_keys", ("key",), ("key",))
_SIGNATURES = _Upsert(
    "template_signatures", ("template_key", "words", "signature", "bands"), ("template_key",)
)
_SAMPLES = _Upsert(
    "prompt_samples", ("template_key", "slot", "account_id", "ts", "text"), ("template_key", "slot")
)


def upsert_accounts(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    # Later records for the same id in one batch win, as they would across batches.
    latest = list({r["id"]: r for r in rows}.values())
    _replace_rows(session, Account, latest, ("id",))


def upsert_payments(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    latest = list({(r["account_id"], r["fingerprint_key"]): r for r in rows}.values())
    _replace_rows(session, PaymentMethod, latest, ("account_id", "fingerprint_key"))


def _replace_rows(
    session: Session, model: Any, rows: list[dict[str, Any]], keys: tuple[str, ...]
) -> None:
    """Insert ``rows`` (dicts with the same columns), a stored row with the same ``keys``
    taking every other column of the new one (a record sent again replaces the old).

    SQLite: the driver's executemany, each column converted once by its type's own bind
    processor (what SQLAlchemy applies a row at a time: dates to text, JSON to text), so the
    stored values are the same; SQLAlchemy's per-row parameter handling was most of the
    writer's time while a file's accounts were written (realistic 50k file: ~1.4 s of CPU for
    50,000 accounts and 34,000 payment methods, with the workers waiting). PostgreSQL:
    SQLAlchemy's upsert.
    """
    conn = session.connection()
    names = tuple(rows[0])
    if conn.dialect.name != "sqlite":
        stmt = _insert(session, model)
        cols = {c: stmt.excluded[c] for c in names if c not in keys}
        _execute(session, stmt.on_conflict_do_update(index_elements=list(keys), set_=cols), rows)
        return
    table = model.__table__
    replace = tuple((c, f'excluded."{c}"') for c in names if c not in keys)
    columns = []
    for name in names:
        values = [r[name] for r in rows]
        process = table.c[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        columns.append(values if process is None else list(map(process, values)))
    _Upsert(table.name, names, keys, replace).run(session, list(zip(*columns, strict=True)))


def insert_request_keys(session: Session, keys: np.ndarray) -> np.ndarray:
    """Store request digests; return a mask of those not seen before (first in batch wins).

    Fast path: insert them all, ignoring conflicts, inside a savepoint; if every one was new
    (the usual case) that is all. Otherwise roll the savepoint back, look up which existed,
    and insert the rest.
    """
    if len(keys) == 0:
        return np.zeros(0, dtype=bool)
    uniq, first = np.unique(keys, return_index=True)
    savepoint = session.begin_nested()
    if _insert_keys(session, uniq) == len(uniq):
        savepoint.commit()
        is_new = np.ones(len(uniq), dtype=bool)
    else:
        savepoint.rollback()
        existing = _existing_keys(session, uniq)
        is_new = ~np.isin(uniq, existing)
        _insert_keys(session, uniq[is_new])
    mask = np.zeros(len(keys), dtype=bool)
    mask[first[is_new]] = True
    return mask


_KEYS_FROM_JSON = (
    'INSERT INTO request_keys ("key") SELECT value FROM json_each(?) WHERE true '
    'ON CONFLICT ("key") DO NOTHING'
)


def _insert_keys(session: Session, keys: np.ndarray) -> int:
    """Insert ``keys`` (unique), ignoring those stored before; return how many were new."""
    conn = session.connection()
    if conn.dialect.name != "sqlite" or not SQLITE_HAS_JSON:
        return _REQUEST_KEYS.run(session, [(k,) for k in keys.tolist()])
    changed = 0
    for part in json_key_arrays(keys, _SLICE):
        changed += max(conn.exec_driver_sql(_KEYS_FROM_JSON, (part,)).rowcount, 0)
    return changed


def _existing_keys(session: Session, keys: np.ndarray) -> np.ndarray:
    conn = session.connection()
    mark = "%s" if conn.dialect.name == "postgresql" else "?"
    found: list[int] = []
    for start in range(0, len(keys), 900):
        part = keys[start : start + 900].tolist()
        sql = f'SELECT "key" FROM request_keys WHERE "key" IN ({", ".join(mark for _ in part)})'
        found.extend(r[0] for r in conn.exec_driver_sql(sql, tuple(part)))
    return np.asarray(found, dtype=np.int64)


def insert_values(
    session: Session, values: Iterable[tuple[int, int, str]], stored: StoredKeys | None = None
) -> None:
    """Store the display text of each (kind, key, text) not stored before; ``stored`` knows
    what this ingest has stored (those are left out). Template skeletons are stored with
    their samples (:class:`SampleBook`)."""
    rows = list(values)
    if stored is None or not rows:
        _VALUES.run(session, rows)
        return
    kinds = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    keys = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
    fresh = ~stored.contains(kinds, keys)
    _VALUES.run(session, list(compress(rows, fresh.tolist())))
    stored.add(kinds[fresh], keys[fresh])


def insert_template_signatures(session: Session, rows: Columns) -> None:
    """Store new templates' band keys, word counts and signature codes (a template seen
    before keeps its row: the same skeleton gives the same keys)."""
    keys = rows["template_key"]
    conn = session.connection()
    from_json = conn.dialect.name == "sqlite" and SQLITE_HAS_JSON
    for start in range(0, len(keys), _SLICE):
        part = slice(start, start + _SLICE)
        if from_json:
            counts = np.column_stack(
                [_digits(rows["words"][part], _WORDS_WIDTH), _digits(rows["signature"][part], 6)]
            )
            conn.exec_driver_sql(
                _SIGNATURES_FROM_JSON,
                (
                    next(json_key_arrays(keys[part], _SLICE)),
                    counts.tobytes(),
                    packed_bands(rows["bands"][part]),
                ),
            )
            continue
        _SIGNATURES.run(
            session,
            list(
                zip(
                    keys[part].tolist(),
                    rows["words"][part].tolist(),
                    rows["signature"][part].tolist(),
                    pack_bands(rows["bands"][part]),
                    strict=True,
                )
            ),
        )


# SQLite: a slice of signatures in one statement: the keys as one JSON array, the band keys
# as one blob cut by row, and each row's word count and signature code as fixed-width
# decimal text in another blob (SQLite cuts a blob at an offset in constant time and casts
# "+0000000041" to 41). Binding a 128-byte blob a row through the driver's executemany cost
# more than the insert (the driver adapts every bytes value): 0.96 against 0.70 s of CPU for
# 300k rows; reading the two counts from a JSON array a row ([key, words, signature], each
# `->>` parsing the row's array again) cost a third of what is left: 1.1M rows of the
# realistic 50k file in 2.65 s against 2.0 s, the same stored values.
_WORDS_WIDTH = 11  # sign and ten digits: any INTEGER word count of a 1,000,000-character prompt
_ROW_DIGITS = _WORDS_WIDTH + 6  # then the signature code (SMALLINT): sign and five digits
_SIGNATURES_FROM_JSON = (
    'INSERT INTO template_signatures ("template_key", "words", "signature", "bands") '
    f"SELECT value, CAST(substr(?2, key * {_ROW_DIGITS} + 1, {_WORDS_WIDTH}) AS INTEGER), "
    f"CAST(substr(?2, key * {_ROW_DIGITS} + {_WORDS_WIDTH + 1}, 6) AS INTEGER), "
    f"substr(?3, key * {BAND_BYTES} + 1, {BAND_BYTES}) "
    'FROM json_each(?1) WHERE true ON CONFLICT ("template_key") DO NOTHING'
)


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """``values`` as ASCII decimal text of ``width`` characters each (a sign, then zero-padded
    digits), one row of bytes a value."""
    values = np.asarray(values, dtype=np.int64)
    magnitude = np.abs(values)
    if len(values) and magnitude.max() >= 10 ** (width - 1):
        raise ValueError(f"a value does not fit in {width - 1} decimal digits")
    powers = 10 ** np.arange(width - 2, -1, -1, dtype=np.int64)
    digits = (magnitude[:, None] // powers) % 10 + ord("0")
    sign = np.where(values < 0, ord("-"), ord("+"))[:, None]
    return np.hstack([sign, digits]).astype(np.uint8)


def upsert_observations(session: Session, rows: Columns) -> None:
    _run_columns(_OBSERVATIONS, session, rows)


def upsert_activity(session: Session, rows: Columns) -> None:
    _run_columns(_ACTIVITY, session, rows)


def upsert_usage(session: Session, rows: Columns) -> None:
    _run_columns(_USAGE, session, rows)


_FULL_REMEMBERED = 1 << 18  # templates known to be full (~16 MiB); forgotten ones are re-read
_HELD_REMEMBERED = 1 << 18  # accounts whose sample count is known (~30 MiB); re-read after


class SampleBook:
    """Keeps at most ``limit`` prompt texts per template, filling free slots in order, and at
    most ``per_account`` per account across its templates (an account sending thousands of
    one-off prompts does not have them all kept until the next detection run drops them).
    A prompt whose template no other account is known to use (no sample stored for it yet,
    no other account sends it in the same batch, none sent it earlier in this ingest:
    :meth:`note`) is kept only while its account holds fewer than ``per_account_unshared``:
    on real traffic such prompts are nearly all one-off text, which the next detection run
    deletes again, and writing them cost the realistic 50k-account ingest a sixth of its
    time (docs/performance.md). The template's skeleton text is stored with its first kept
    sample, and only then.

    Within one ingest transaction nobody else adds samples (SQLite has one writer; PostgreSQL
    ingests take an advisory lock per transaction; detection runs and retention purges only
    delete, which can only make a kept count too high, never too low), so an account's count
    is read from the database once per transaction and then kept here: a realistic
    50k-account file asked again for the same accounts in every batch (800,026 look-ups, 4.9 s
    of the writing process, for 50,000 accounts). :meth:`begin` forgets the counts when a
    transaction starts (another ingest may have added samples since); an account some of
    whose rows were not stored (a slot left taken by a purge's gaps) is read again."""

    def __init__(self, limit: int, per_account: int = 20, per_account_unshared: int = 6) -> None:
        self.limit = limit
        self.per_account = per_account
        self.per_account_unshared = min(per_account_unshared, per_account)
        self._full: set[int] = set()
        self._held: dict[str, int] = {}  # samples stored per account, this transaction
        self._templates = SeenSet()  # templates this ingest has seen (app.ingest.seen)
        self._senders = SeenSet()  # and (template, account) pairs

    def note(self, templates: np.ndarray, accounts: np.ndarray) -> None:
        """Remember a written batch's templates and who sent them (account hashes)."""
        self._templates.add(templates)
        self._senders.add(pair_keys(templates, accounts))

    def begin(self) -> None:
        """A new transaction: counts read in an earlier one may be stale."""
        self._held.clear()

    def add(self, session: Session, rows: Columns, senders: tuple[np.ndarray, np.ndarray]) -> None:
        """Store the batch's sample rows (at most ``limit`` a template, in order) in the
        free slots of their templates, within their accounts' allowance."""
        keys = rows["template_key"]
        if len(keys) == 0:
            return
        if self.limit == 0 or self.per_account == 0:  # no raw prompts kept: the skeletons are
            _store_texts(session, rows)
            return
        if self._full:
            rows = take(rows, ~np.fromiter(map(self._full.__contains__, keys.tolist()), bool))
            keys = rows["template_key"]
            if len(keys) == 0:
                return
        # rows of accounts whose allowance is used up can never be kept: dropped before the
        # templates' counts are read (on real traffic most rows after an account's first
        # batches; the order of the filters below is what decides the others)
        accounts = rows["account_id"].tolist()
        held = self._held_by(session, accounts)
        mine = np.fromiter(map(held.__getitem__, accounts), np.int64, len(accounts))
        room = mine < self.per_account
        if not room.all():
            rows, mine = take(rows, room), mine[room]
            keys = rows["template_key"]
            if len(keys) == 0:
                return
        stored = _slots(session, distinct(keys))
        before, after = _stored_per_row(stored, keys)
        free = before + rank_within(keys) < self.limit
        rows, mine, before, after = take(rows, free), mine[free], before[free], after[free]
        # the accounts' allowance, then slots among the rows left, after each template's last
        keys = rows["template_key"]
        sent_by_another = self._templates.contains(keys) & ~self._senders.contains(
            pair_keys(keys, rows["ak"])
        )
        shared = (before > 0) | sent_by_another | np.isin(keys, _shared_in(*senders))
        limits = (self.per_account_unshared, self.per_account)
        kept = _within_allowance(rows["account_id"], mine, shared, limits)
        rows, after = take(rows, kept), after[kept]
        rows = {**rows, "slot": after + rank_within(rows["template_key"])}
        for key, (count, _) in stored.items():
            if count >= self.limit:
                self._full.add(key)
        if len(self._full) > _FULL_REMEMBERED:
            self._full.clear()
        inserted = _run_columns(_SAMPLES, session, rows)
        # a template's skeleton text goes with its first kept sample: a template none of
        # whose prompts is kept (on real traffic, the one-off prompts beyond an account's
        # allowance) costs no text (docs/architecture.md, "What is kept of a prompt")
        _store_texts(session, rows)
        accounts = rows["account_id"].tolist()
        if inserted == len(accounts):
            for account in accounts:
                held[account] += 1
        else:  # some slots were taken after all: count these accounts again when next seen
            for account in set(accounts):
                held.pop(account, None)

    def _held_by(self, session: Session, accounts: list[str]) -> dict[str, int]:
        """Stored samples of each of ``accounts``: remembered, or read once a transaction."""
        held = self._held
        unknown = set(accounts).difference(held)
        if unknown:
            if len(held) + len(unknown) > _HELD_REMEMBERED:
                held.clear()
                unknown = set(accounts)
            column = PromptSample.__table__.c.account_id
            found = _counts(session, column, np.array(sorted(unknown), dtype=object))
            held.update(dict.fromkeys(unknown, 0))
            held.update(found)
        return held


def _stored_per_row(
    stored: dict[int, tuple[int, int]], keys: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``keys``: its template's stored sample count and the slot after its highest
    (both 0 for a template with none), looked up in sorted arrays instead of a dict a row."""
    counts = np.zeros(len(keys), dtype=np.int64)
    nexts = np.zeros(len(keys), dtype=np.int64)
    if not stored:
        return counts, nexts
    known = np.fromiter(stored, dtype=np.int64, count=len(stored))
    values = np.array(list(stored.values()), dtype=np.int64).reshape(-1, 2)
    order = np.argsort(known)
    known, values = known[order], values[order]
    at, hit = sorted_lookup(known, keys)
    counts[hit], nexts[hit] = values[at[hit], 0], values[at[hit], 1]
    return counts, nexts


def _store_texts(session: Session, rows: Columns) -> None:
    """Store the skeleton text of each template of ``rows`` that has none yet."""
    texts = dict(zip(rows["template_key"].tolist(), rows["skeleton"].tolist(), strict=True))
    _TEXTS.run(session, [(k, t) for k, t in texts.items() if t is not None])


def _shared_in(templates: np.ndarray, accounts: np.ndarray) -> np.ndarray:
    """The templates that two or more of ``accounts`` sent (one row per (template, account)
    use: a batch's activity rows)."""
    per_pair = Groups(templates, accounts).first(templates)  # a template per distinct pair
    found, senders = np.unique(per_pair, return_counts=True)
    return np.asarray(found[senders >= 2])


def _within_allowance(
    accounts: np.ndarray, held: np.ndarray, shared: np.ndarray, limits: tuple[int, int]
) -> np.ndarray:
    """Which rows (in order) an account may keep: while it holds fewer than ``limits[0]``
    samples any row, then rows of shared templates while it holds fewer than ``limits[1]``.
    A refused row takes no place: an account's first rows fill its small allowance whatever
    their templates, and only its shared rows are counted after that."""
    unshared, total = limits
    rank = rank_within(accounts)
    first = rank < np.maximum(unshared - held, 0)  # kept whatever their template
    later = ~first & shared
    rank_later = np.zeros(len(accounts), dtype=np.int64)
    rank_later[later] = rank_within(accounts[later])
    start = np.maximum(held, unshared)  # what the account holds once its first rows are in
    return np.asarray(first | (later & (start + rank_later < total)))


def _counts(session: Session, column: Any, values: np.ndarray) -> dict[Any, int]:
    """Stored prompt samples per value of ``column`` (the accounts' allowance)."""
    return {k: int(n) for k, n in _per_value(session, column, values, "count(*)", func.count())}


def _slots(session: Session, keys: np.ndarray) -> dict[int, tuple[int, int]]:
    """Per template key with stored samples: how many, and the slot after its highest.

    New samples are numbered from the latter: a retention purge deletes a template's oldest
    samples (its first slots), and numbering from the count would then hand out a slot that
    is still taken, so the template never got another sample."""
    slot = PromptSample.__table__.c.slot
    rows = _per_value(
        session,
        PromptSample.__table__.c.template_key,
        keys,
        "count(*), max(slot) + 1",
        func.count(),
        func.max(slot) + 1,
    )
    return {k: (int(n), int(nxt)) for k, n, nxt in rows}


def _per_value(
    session: Session, column: Any, values: np.ndarray, sql: str, *aggregates: Any
) -> list[tuple[Any, ...]]:
    """``column``'s value and ``aggregates`` (``sql`` on SQLite) over the stored prompt
    samples of each of ``values`` that has any.

    SQLite with JSON: one statement per 50,000 values, the values bound as one JSON array
    (``json_each``); ``column IN (...)`` lists of 5,000 built by SQLAlchemy spent most of their
    time compiling and binding (10k realistic file: 1.38 against 0.23 s; a realistic batch
    asks for tens of thousands of templates, nearly all unsampled).
    """
    out: list[tuple[Any, ...]] = []
    conn = session.connection()
    if conn.dialect.name == "sqlite" and SQLITE_HAS_JSON:
        name = f'"{column.name}"'
        query = (
            f"SELECT {name}, {sql} FROM prompt_samples "
            f"WHERE {name} IN (SELECT value FROM json_each(?)) GROUP BY {name}"
        )
        for part in json_key_arrays(values, _SLICE):
            out.extend(conn.exec_driver_sql(query, (part,)).fetchall())
        return out
    items = values.tolist()
    for start in range(0, len(items), _CHUNK):
        q = (
            select(column, *aggregates)
            .where(column.in_(items[start : start + _CHUNK]))
            .group_by(column)
        )
        out.extend(tuple(r) for r in session.execute(q))
    return out


def table_counts(session: Session) -> dict[str, int]:
    def count(model: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)

    return {
        "accounts": count(Account),
        "payment_methods": count(PaymentMethod),
        "requests": count(RequestKey),
    }
