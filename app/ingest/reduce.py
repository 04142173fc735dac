"""Reduce request records to what detection needs.

Per request only a few dictionary look-ups and the template skeleton run in Python; the
grouping into per-account observations, activity windows and usage totals runs on whole NumPy
columns (app.ingest.grouping: factorized keys, bincount). See docs/architecture.md,
"How request logs are reduced".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import compress, repeat
from operator import is_not
from typing import cast

import numpy as np
import pandas as pd

from app.core.hashing import Hasher, content_keys
from app.ingest.grouping import Columns, Groups, rank_within, sort_by, with_account_ids
from app.ingest.request_lines import RequestLine
from app.ingest.validate import RecordError
from graph.signals.network import parse_ip
from graph.signals.prompts import grouping_features, skeletons
from graph.types import Kind

# Per-account observations. Templates are not among them: the activity rows already count
# requests per (account, window, template), and detection sums those (one row fewer per
# account and template at ingest, the busiest table there).
OBS_KINDS = (Kind.IP, Kind.IP_RANGE, Kind.USER_AGENT, Kind.API_KEY, Kind.MODEL)
SAMPLE_CHARS = 2000
_CACHE_LIMIT = 1 << 17  # entries per cache (a few tens of MiB; values are re-sent after a clear)
_RANGES_REMEMBERED = 1 << 15  # IP ranges reported recently (~2.5 MiB; a worker is near 1 GiB / 4)


@dataclass(slots=True)
class RequestColumns:
    account: np.ndarray
    ts: np.ndarray
    dedupe: np.ndarray
    values: dict[Kind, np.ndarray]
    input_tokens: np.ndarray
    output_tokens: np.ndarray
    prompts: list[str | None]
    skeletons: list[str | None]
    new_values: list[tuple[int, int, str]] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ts)

    @staticmethod
    def concat(parts: list[RequestColumns]) -> RequestColumns:
        if len(parts) == 1:
            return parts[0]
        return RequestColumns(
            account=np.concatenate([p.account for p in parts]),
            ts=np.concatenate([p.ts for p in parts]),
            dedupe=np.concatenate([p.dedupe for p in parts]),
            values={k: np.concatenate([p.values[k] for p in parts]) for k in parts[0].values},
            input_tokens=np.concatenate([p.input_tokens for p in parts]),
            output_tokens=np.concatenate([p.output_tokens for p in parts]),
            prompts=[t for p in parts for t in p.prompts],
            skeletons=[t for p in parts for t in p.skeletons],
            new_values=[v for p in parts for v in p.new_values],
            errors=[e for p in parts for e in p.errors],
        )

    def subset(self, mask: np.ndarray) -> RequestColumns:
        return RequestColumns(
            account=self.account[mask],
            ts=self.ts[mask],
            dedupe=self.dedupe[mask],
            values={k: v[mask] for k, v in self.values.items()},
            input_tokens=self.input_tokens[mask],
            output_tokens=self.output_tokens[mask],
            prompts=[p for p, m in zip(self.prompts, mask, strict=True) if m],
            skeletons=[p for p, m in zip(self.skeletons, mask, strict=True) if m],
            new_values=self.new_values,
            errors=self.errors,
        )


def _cached_keys(
    cache: dict[str | None, int],
    values: list[str | None],
    kind: Kind,
    keys_of: Callable[[list[str]], np.ndarray],
    new: list[tuple[int, int, str]],
) -> np.ndarray:
    """The key of each value (0 for None). Values repeat (user agents, models, templates):
    new ones are found with one set difference and keyed in one call, and reported in
    ``new``."""
    if len(cache) > _CACHE_LIMIT:
        cache.clear()
        cache[None] = 0
    fresh = [v for v in set(values).difference(cache) if v is not None]  # None: cached
    for value, key in zip(fresh, keys_of(fresh).tolist(), strict=True):
        cache[value] = key
        new.append((int(kind), key, value))
    return np.fromiter(map(cache.__getitem__, values), dtype=np.int64, count=len(values))


class RequestReducer:
    """Turns validated request dicts into columns; remembers values it has keyed."""

    def __init__(self, hasher: Hasher) -> None:
        self._h = hasher
        # IP text -> row of _ip_table (its key and its range's key); row 0: not a valid IP
        self._ip: dict[str, int] = {}
        self._ip_table = np.zeros((1, 2), dtype=np.int64)
        self._ranges: set[int] = set()  # keys of the IP ranges reported as new
        self._text: dict[Kind, dict[str | None, int]] = {
            k: {None: 0} for k in (Kind.USER_AGENT, Kind.API_KEY, Kind.MODEL)
        }
        self._templates: set[int] = set()  # keys of the templates reported as new

    # Per record only list comprehensions, C-level map() and array operations run: values
    # repeat (user agents, models, IPs), and each distinct one is looked up once a batch and
    # keyed once while it is remembered.
    def _ip_keys(
        self, ips: list[str], new: list[tuple[int, int, str]]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The key of each IP and of its range, and which IPs are valid (the keys of an
        invalid one are 0). Distinct IPs are parsed and keyed once; a request then costs one
        dictionary look-up for its row of the key table."""
        cache = self._ip
        if len(cache) > _CACHE_LIMIT:
            cache.clear()
            self._ip_table = self._ip_table[:1]
        codes, distinct = pd.factorize(np.asarray(ips, dtype=object))
        listed = distinct.tolist()
        at = np.fromiter(map(cache.get, listed, repeat(-1)), dtype=np.int64, count=len(listed))
        missing = np.flatnonzero(at < 0)
        fresh = [listed[i] for i in missing.tolist()]
        parsed = list(map(parse_ip, fresh))
        ok = np.fromiter(map(is_not, parsed, repeat(None)), dtype=bool, count=len(parsed))
        valid = cast(list[tuple[str, str]], list(compress(parsed, ok.tolist())))
        addresses = [p[0] for p in valid]
        ranges = [p[1] for p in valid]
        ip_keys = self._h.many("ip", addresses)
        range_keys = self._h.many("ip_range", ranges)
        keys = np.column_stack([ip_keys, range_keys])
        rows_of_fresh = np.zeros(len(fresh), dtype=np.int64)  # an invalid IP: row 0
        rows_of_fresh[ok] = np.arange(len(self._ip_table), len(self._ip_table) + len(valid))
        cache.update(zip(fresh, rows_of_fresh.tolist(), strict=True))
        new.extend(zip(repeat(int(Kind.IP)), ip_keys.tolist(), addresses))
        # a range is reported once, not once an address (its text is the same for its key)
        reported = self._ranges
        unseen = [
            (k, t)
            for k, t in dict(zip(range_keys.tolist(), ranges, strict=True)).items()
            if k not in reported
        ]
        if len(reported) + len(unseen) > _RANGES_REMEMBERED:
            reported.clear()
        reported.update(k for k, _ in unseen)
        new.extend((int(Kind.IP_RANGE), k, t) for k, t in unseen)
        if len(keys):
            self._ip_table = np.concatenate([self._ip_table, keys])
        at[missing] = rows_of_fresh
        rows = at[codes]
        table = self._ip_table[rows]
        return table[:, 0], table[:, 1], rows != 0

    def _template_keys(
        self, skels: list[str | None], new: list[tuple[int, int, str]]
    ) -> np.ndarray:
        """The key of each skeleton (0 for None); skeletons this reducer has not reported
        before go to ``new``. Every skeleton is digested in one compiled call and the distinct
        ones are found on the keys; only the keys are remembered: on real traffic skeletons
        are mostly unique, and remembering their texts (as for user agents) held ~40 MiB per
        worker for few hits."""
        absent = np.fromiter((s is None for s in skels), dtype=bool, count=len(skels))
        keys = content_keys([s or "" for s in skels])
        keys[absent] = 0
        seen = self._templates
        if len(seen) > _CACHE_LIMIT:
            seen.clear()
        distinct, first = np.unique(keys, return_index=True)
        for key, i in zip(distinct.tolist(), first.tolist(), strict=True):
            if key and key not in seen:
                seen.add(key)
                new.append((int(Kind.TEMPLATE), key, skels[i]))
        return keys

    def _text_keys(
        self, kind: Kind, texts: list[str | None], new: list[tuple[int, int, str]]
    ) -> np.ndarray:
        space = kind.name.lower()
        return _cached_keys(self._text[kind], texts, kind, lambda t: self._h.many(space, t), new)

    def columns(
        self,
        records: list[RequestLine],
        times: list[datetime],
        raw: list[bytes],
        lines: list[int],
    ) -> RequestColumns:
        n = len(records)
        new: list[tuple[int, int, str]] = []
        errors: list[RecordError] = []
        prompts: list[str | None] = [r.prompt for r in records]  # None: absent
        ip, rng, ok = self._ip_keys([r.ip for r in records], new)
        for i in np.flatnonzero(~ok).tolist():
            errors.append(RecordError(lines[i], "ip", "not a valid IPv4 or IPv6 address"))
        skels = skeletons(prompts)
        tmpl = self._template_keys(skels, new)
        ua = self._text_keys(Kind.USER_AGENT, [r.user_agent for r in records], new)
        api = self._text_keys(Kind.API_KEY, [r.api_key_id for r in records], new)
        model = self._text_keys(Kind.MODEL, [r.model for r in records], new)
        dedupe = content_keys(
            [
                b if r.id is None else b"id:" + r.id.encode()
                for r, b in zip(records, raw, strict=True)
            ]
        )
        cols = RequestColumns(
            account=np.array([r.account_id for r in records], dtype=object),
            ts=np.fromiter((t.timestamp() for t in times), dtype=np.float64, count=n).astype(
                np.int64
            ),
            dedupe=dedupe,
            values={
                Kind.IP: ip,
                Kind.IP_RANGE: rng,
                Kind.USER_AGENT: ua,
                Kind.TEMPLATE: tmpl,
                Kind.API_KEY: api,
                Kind.MODEL: model,
            },
            input_tokens=np.fromiter((r.input_tokens for r in records), dtype=np.int64, count=n),
            output_tokens=np.fromiter((r.output_tokens for r in records), dtype=np.int64, count=n),
            prompts=prompts,
            skeletons=skels,
        )
        if not ok.all():
            cols = cols.subset(ok)
        cols.new_values = new
        cols.errors = errors
        return cols


@dataclass(slots=True)
class Aggregates:
    """A batch's requests grouped into the rows detection reads.

    Rows name their account by ``a``, a code into ``names`` (the batch's distinct account
    ids, sorted), or by ``ak``, its 64-bit hash (``hashes[a]``): the parent process merges
    observation and usage rows across batches on that integer, and the account strings
    cross the process boundary once per batch instead of once per row.
    """

    names: np.ndarray
    hashes: np.ndarray
    observations: Columns  # ak, kind, value_key, n, first_seen, last_seen
    activity: Columns  # a, window, template_key, n; sorted by primary key
    usage: Columns  # ak, requests, input_tokens, output_tokens, first_seen, last_seen
    samples: Columns  # template_key, a, ts, text, skeleton; samples_per_template a template

    def activity_rows(self) -> Columns:
        return with_account_ids(self.activity, "a", self.names[self.activity["a"]])

    def sample_rows(self) -> Columns:
        rows = with_account_ids(self.samples, "a", self.names[self.samples["a"]])
        return {**rows, "ak": self.hashes[self.samples["a"]]}

    def template_senders(self) -> tuple[np.ndarray, np.ndarray]:
        """(template key, account hash) of each activity row with a template."""
        used = self.activity["template_key"] != 0
        return self.activity["template_key"][used], self.hashes[self.activity["a"][used]]


def template_rows(new_values: list[tuple[int, int, str]]) -> Columns:
    """Grouping features of the batch's new templates (``new_values`` of kind template): band
    keys, word count and distillation signature code, computed once per distinct skeleton
    (``graph.signals.prompts.grouping_features``), so detection never reads the skeleton
    texts to group them."""
    tpl = int(Kind.TEMPLATE)
    skels = [v for kind, _, v in new_values if kind == tpl]
    keys = [k for kind, k, _ in new_values if kind == tpl]
    bands, words, codes = grouping_features(skels)
    return {
        "template_key": np.asarray(keys, dtype=np.int64),
        "words": words,
        "signature": codes,
        "bands": bands,
    }


def _sorted_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes into the sorted distinct values. Plain set, sort and dict: for a few thousand
    distinct strings a batch this is cheaper than pandas' factorize, which sorts a string
    array."""
    listed = values.tolist()
    names = sorted(set(listed))
    index = {name: i for i, name in enumerate(names)}
    codes = np.fromiter(map(index.__getitem__, listed), dtype=np.int64, count=len(listed))
    return codes, np.array(names, dtype=object)


def aggregate(cols: RequestColumns, window_seconds: int, samples_per_template: int) -> Aggregates:
    """Group request columns into observation, activity, usage and sample rows."""
    acct, names = _sorted_codes(cols.account)
    # a 64-bit hash per account (pandas' fixed-key SipHash, the same in every process)
    hashes = pd.util.hash_array(names).view(np.int64)
    ak = hashes[acct]

    present = {kind: cols.values[kind] != 0 for kind in OBS_KINDS}
    long = {
        "ak": np.concatenate([ak[m] for m in present.values()]),
        "kind": np.concatenate(
            [np.full(int(m.sum()), kind, dtype=np.int16) for kind, m in present.items()]
        ),
        "value_key": np.concatenate([cols.values[kind][m] for kind, m in present.items()]),
        "ts": np.concatenate([cols.ts[m] for m in present.values()]),
    }
    g = Groups(long["ak"], long["kind"], long["value_key"])
    observations = {
        "ak": g.first(long["ak"]),
        "kind": g.first(long["kind"]),
        "value_key": g.first(long["value_key"]),
        "n": g.size(),
        "first_seen": g.min(long["ts"]),
        "last_seen": g.max(long["ts"]),
    }

    window = cols.ts // window_seconds
    template = cols.values[Kind.TEMPLATE]
    g = Groups(acct, window, template)
    activity = sort_by(
        {
            "a": g.first(acct),
            "window": g.first(window),
            "template_key": g.first(template),
            "n": g.size(),
        },
        "a",
        "window",
        "template_key",
    )

    g = Groups(acct)
    usage = {
        "ak": g.first(ak),
        "requests": g.size(),
        "input_tokens": g.sum(cols.input_tokens),
        "output_tokens": g.sum(cols.output_tokens),
        "first_seen": g.min(cols.ts),
        "last_seen": g.max(cols.ts),
    }

    rows = np.flatnonzero(template != 0)
    # at least one row a template: its skeleton text is stored with its sample, or alone
    # where no samples are kept (app.ingest.repository.SampleBook)
    rows = rows[rank_within(template[rows]) < max(samples_per_template, 1)]
    samples = {
        "template_key": template[rows],
        "a": acct[rows],
        "ts": cols.ts[rows],
        "text": np.array(
            [(cols.prompts[i] or "")[:SAMPLE_CHARS] for i in rows.tolist()], dtype=object
        ),
        # stored with the sample (and only then): app.ingest.repository.SampleBook
        "skeleton": np.array([cols.skeletons[i] for i in rows.tolist()], dtype=object),
    }
    return Aggregates(names, hashes, observations, activity, usage, samples)
