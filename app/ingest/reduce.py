"""Reduce request records to what detection needs.

Per request only a few dictionary look-ups and the template skeleton run in Python; the
grouping into per-account observations, activity windows and usage totals is done by pandas
on whole columns. See docs/architecture.md, "How request logs are reduced".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from app.ingest.keys import Hasher, content_key
from app.ingest.validate import RecordError
from graph.signals.network import parse_ip
from graph.signals.prompts import skeleton
from graph.types import Kind

# Per-account observations. Templates are not among them: the activity rows already count
# requests per (account, window, template), and detection sums those (one row fewer per
# account and template at ingest, the busiest table there).
OBS_KINDS = (Kind.IP, Kind.IP_RANGE, Kind.USER_AGENT, Kind.API_KEY, Kind.MODEL)
SAMPLE_CHARS = 2000
_CACHE_LIMIT = 1 << 17  # entries per cache (a few tens of MiB; values are re-sent after a clear)


@dataclass(slots=True)
class RequestColumns:
    account: np.ndarray
    ts: np.ndarray
    dedupe: np.ndarray
    values: dict[Kind, np.ndarray]
    input_tokens: np.ndarray
    output_tokens: np.ndarray
    prompts: list[str | None]
    new_values: list[tuple[int, int, str]] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ts)

    def subset(self, mask: np.ndarray) -> RequestColumns:
        return RequestColumns(
            account=self.account[mask],
            ts=self.ts[mask],
            dedupe=self.dedupe[mask],
            values={k: v[mask] for k, v in self.values.items()},
            input_tokens=self.input_tokens[mask],
            output_tokens=self.output_tokens[mask],
            prompts=[p for p, m in zip(self.prompts, mask, strict=True) if m],
            new_values=self.new_values,
            errors=self.errors,
        )


class RequestReducer:
    """Turns validated request dicts into columns; remembers values it has keyed."""

    def __init__(self, hasher: Hasher) -> None:
        self._h = hasher
        self._ip: dict[str, tuple[int, int] | None] = {}
        self._text: dict[Kind, dict[str | None, int]] = {
            k: {None: 0} for k in (Kind.USER_AGENT, Kind.API_KEY, Kind.MODEL)
        }
        self._templates: dict[str, int] = {}

    # Per record only list comprehensions and C-level map() run: new values are found with
    # one set difference per batch and keyed once (values repeat: user agents, models, IPs).
    def _ip_keys(
        self, ips: list[str], new: list[tuple[int, int, str]]
    ) -> list[tuple[int, int] | None]:
        cache = self._ip
        if len(cache) > _CACHE_LIMIT:
            cache.clear()
        for ip in set(ips).difference(cache):
            parsed = parse_ip(ip)
            keys = None
            if parsed is not None:
                keys = (self._h("ip", parsed[0]), self._h("ip_range", parsed[1]))
                new.append((int(Kind.IP), keys[0], parsed[0]))
                new.append((int(Kind.IP_RANGE), keys[1], parsed[1]))
            cache[ip] = keys
        return list(map(cache.__getitem__, ips))

    def _text_keys(
        self, kind: Kind, texts: list[str | None], new: list[tuple[int, int, str]]
    ) -> np.ndarray:
        cache = self._text[kind]
        if len(cache) > _CACHE_LIMIT:
            cache.clear()
            cache[None] = 0
        space = kind.name.lower()
        for text in set(texts).difference(cache):
            assert text is not None  # None is always in the cache
            key = cache[text] = self._h(space, text)
            new.append((int(kind), key, text))
        return np.fromiter(map(cache.__getitem__, texts), dtype=np.int64, count=len(texts))

    def columns(
        self, records: list[dict[str, Any]], raw: list[bytes], lines: list[int]
    ) -> RequestColumns:
        n = len(records)
        new: list[tuple[int, int, str]] = []
        errors: list[RecordError] = []
        ok = np.ones(n, dtype=bool)
        ip = np.zeros(n, dtype=np.int64)
        rng = np.zeros(n, dtype=np.int64)
        tmpl = np.zeros(n, dtype=np.int64)
        ip_keys = self._ip_keys([r["ip"] for r in records], new)
        if None in ip_keys:
            for i, keys in enumerate(ip_keys):
                if keys is None:
                    ok[i] = False
                    errors.append(RecordError(lines[i], "ip", "not a valid IPv4 or IPv6 address"))
            ip_keys = [k or (0, 0) for k in ip_keys]
        if n:
            ip[:], rng[:] = zip(*ip_keys, strict=True)
        for i, rec in enumerate(records):
            prompt = rec.get("prompt")
            if prompt:
                skel = skeleton(prompt)
                key = self._templates.get(skel)
                if key is None:  # templates repeat: hash each skeleton once
                    key = content_key(skel.encode())
                    self._templates[skel] = key
                    new.append((int(Kind.TEMPLATE), key, skel))
                tmpl[i] = key
        if len(self._templates) > _CACHE_LIMIT:
            self._templates.clear()
        ua = self._text_keys(Kind.USER_AGENT, [r.get("user_agent") for r in records], new)
        api = self._text_keys(Kind.API_KEY, [r.get("api_key_id") for r in records], new)
        model = self._text_keys(Kind.MODEL, [r.get("model") for r in records], new)
        dedupe = np.fromiter(
            (
                content_key(b"id:" + r["id"].encode()) if "id" in r else content_key(b)
                for r, b in zip(records, raw, strict=True)
            ),
            dtype=np.int64,
            count=n,
        )
        cols = RequestColumns(
            account=np.array([r["account_id"] for r in records], dtype=object),
            ts=np.fromiter(
                (r["ts"].timestamp() for r in records), dtype=np.float64, count=n
            ).astype(np.int64),
            dedupe=dedupe,
            values={
                Kind.IP: ip,
                Kind.IP_RANGE: rng,
                Kind.USER_AGENT: ua,
                Kind.TEMPLATE: tmpl,
                Kind.API_KEY: api,
                Kind.MODEL: model,
            },
            input_tokens=np.fromiter(
                (r.get("input_tokens", 0) for r in records), dtype=np.int64, count=n
            ),
            output_tokens=np.fromiter(
                (r.get("output_tokens", 0) for r in records), dtype=np.int64, count=n
            ),
            prompts=[r.get("prompt") for r in records],
        )
        if not ok.all():
            cols = cols.subset(ok)
        cols.new_values = new
        cols.errors = errors
        return cols


@dataclass(slots=True)
class Aggregates:
    observations: pd.DataFrame
    activity: pd.DataFrame
    usage: pd.DataFrame
    samples: pd.DataFrame


def aggregate(cols: RequestColumns, window_seconds: int, samples_per_template: int) -> Aggregates:
    """Group request columns into observation, activity, usage and sample rows."""
    n = len(cols)
    # sorted codes: grouping by code then yields rows in primary-key order (see below)
    acct_codes, acct_names = pd.factorize(pd.Series(cols.account), sort=True)
    # a 64-bit hash per account (pandas' fixed-key SipHash, the same in every process): the
    # parent merges rows across batches on integers, not on the account strings
    acct_hash = pd.util.hash_array(np.asarray(acct_names, dtype=object)).view(np.int64)
    frames = []
    for kind in OBS_KINDS:
        keys = cols.values[kind]
        m = keys != 0
        frames.append(
            pd.DataFrame(
                {"a": acct_codes[m], "kind": np.int16(kind), "value_key": keys[m], "ts": cols.ts[m]}
            )
        )
    long = pd.concat(frames, ignore_index=True)
    obs = (
        long.groupby(["a", "kind", "value_key"], sort=True)["ts"]
        .agg(n="size", first_seen="min", last_seen="max")
        .reset_index()
    )
    obs["account_id"] = acct_names[obs["a"].to_numpy()]
    obs["ak"] = acct_hash[obs["a"].to_numpy()]

    act = (
        pd.DataFrame(
            {
                "a": acct_codes,
                "window": cols.ts // window_seconds,
                "template_key": cols.values[Kind.TEMPLATE],
            }
        )
        .groupby(["a", "window", "template_key"], sort=True)
        .size()
        .reset_index(name="n")
    )
    act["account_id"] = acct_names[act["a"].to_numpy()]

    usage = (
        pd.DataFrame(
            {"a": acct_codes, "ts": cols.ts, "i": cols.input_tokens, "o": cols.output_tokens}
        )
        .groupby("a", sort=True)
        .agg(
            requests=("ts", "size"),
            input_tokens=("i", "sum"),
            output_tokens=("o", "sum"),
            first_seen=("ts", "min"),
            last_seen=("ts", "max"),
        )
        .reset_index()
    )
    usage["account_id"] = acct_names[usage["a"].to_numpy()]
    usage["ak"] = acct_hash[usage["a"].to_numpy()]

    samples = pd.DataFrame(
        {
            "template_key": cols.values[Kind.TEMPLATE],
            "a": acct_codes,
            "ts": cols.ts,
            "i": np.arange(n),
        }
    )
    samples = samples[samples["template_key"] != 0]
    samples = samples[samples.groupby("template_key").cumcount() < samples_per_template]
    samples = samples.assign(
        account_id=acct_names[samples["a"].to_numpy()],
        text=[(cols.prompts[i] or "")[:SAMPLE_CHARS] for i in samples["i"].to_numpy()],
    )
    # Rows come out sorted by primary key, which makes the B-tree inserts sequential.
    return Aggregates(
        observations=obs.drop(columns="a"),
        activity=act.drop(columns="a"),
        usage=usage.drop(columns="a"),
        samples=samples[["template_key", "account_id", "ts", "text"]],
    )
