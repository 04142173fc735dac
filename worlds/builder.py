"""The world's data model and the builder every population and network draws through.

``Builder`` hands out identifiers (accounts, cards, devices, IP addresses, templates) and
keeps the records and the requests (columnar); populations (``worlds.population``) and
planted networks (``worlds.networks``) only decide what to draw.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from worlds import prose, text

UNIQUE = -1  # a request's template id when its prompt is one-off prose
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z
DAY = 86_400
USER_AGENTS = [
    "python-sdk/1.40.0",
    "python-sdk/1.39.2",
    "node-sdk/4.2.0",
    "Mozilla/5.0 Chrome/131",
    "Mozilla/5.0 Firefox/133",
    "Mozilla/5.0 Safari/18.1",
    "curl/8.5.0",
    "go-sdk/0.9.1",
    "langchain/0.3.1",
    "Mozilla/5.0 Edge/131",
]
UA_WEIGHTS = np.array([30, 15, 12, 14, 6, 8, 3, 2, 8, 2], dtype=float)
PROVIDERS = ["gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com", "gmx.net"]
FIRST = [
    "anna",
    "ben",
    "chloe",
    "david",
    "emma",
    "felix",
    "grace",
    "hugo",
    "isla",
    "jack",
    "kai",
    "lena",
    "milo",
    "nora",
    "omar",
    "priya",
    "quinn",
    "rosa",
    "sam",
    "tara",
    "umar",
    "vera",
    "will",
    "xena",
    "yuki",
    "zoe",
    "li",
    "wei",
    "ana",
    "jose",
]
LAST = [
    "smith",
    "garcia",
    "chen",
    "muller",
    "rossi",
    "kowalski",
    "nguyen",
    "silva",
    "khan",
    "ivanova",
    "tanaka",
    "brown",
    "lopez",
    "martin",
    "dubois",
    "jensen",
    "kim",
    "okafor",
]


@dataclass(frozen=True)
class NetworkSpec:
    """A planted network. ``style`` picks its camouflage (see ``STYLE_BUILDERS``)."""

    name: str
    style: str
    size: int


DEFAULT_NETWORKS: tuple[NetworkSpec, ...] = (
    NetworkSpec("cardfarm", "cardfarm", 150),
    NetworkSpec("resiproxy", "resiproxy", 400),
    NetworkSpec("sleeper", "sleeper", 80),
    NetworkSpec("regrowth", "regrowth", 250),
    NetworkSpec("fakeorg", "fakeorg", 60),
    NetworkSpec("smallring", "smallring", 12),
)


@dataclass(frozen=True)
class WorldParams:
    n_benign: int = 20_000
    days: int = 14
    seed: int = 7
    networks: tuple[NetworkSpec, ...] = DEFAULT_NETWORKS
    mean_requests: float = 20.0
    family_share: float = 0.05
    campus_share: float = 0.05
    carrier_share: float = 0.10
    enterprise_share: float = 0.06
    cron_share: float = 0.01
    public_template_share: float = 0.3
    # "templated": benign prompts fill a small pool of templates (separable by construction);
    # "realistic": most benign requests are one-off prose (see worlds.prose)
    prompts: str = "templated"
    unique_share: float = 0.9  # realistic prompts: share of an ordinary user's one-off requests
    research_share: float = 0.0  # declared research customers running nightly reasoning evals
    workshop_share: float = 0.0  # workshop / hackathon cohorts
    agent_framework_share: float = 0.0  # users of a popular open-source agent framework


@dataclass
class World:
    params: WorldParams
    accounts: list[dict[str, Any]] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    # what each benign account stands for (household, campus, carrier, enterprise, research,
    # cron, individual); the network name for planted accounts. Not part of the truth file.
    roles: list[str] = field(default_factory=list)
    # requests, columnar: account index, epoch seconds, IPv4 as int, template, user agent
    req_account: list[np.ndarray] = field(default_factory=list)
    req_ts: list[np.ndarray] = field(default_factory=list)
    req_ip: list[np.ndarray] = field(default_factory=list)
    req_template: list[np.ndarray] = field(default_factory=list)
    req_ua: list[np.ndarray] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)
    # templates a paraphrasing model rewrites at every use (see worlds.prose.rewrite)
    rewritten: set[int] = field(default_factory=set)

    @property
    def n_requests(self) -> int:
        return int(sum(len(a) for a in self.req_ts))

    def truth(self) -> list[tuple[str, str]]:
        return [(a["id"], lab) for a, lab in zip(self.accounts, self.labels, strict=True)]

    def records(self, *, chunk: int = 200_000) -> Iterator[dict[str, Any]]:
        """All records: accounts, payment methods, then requests in time order."""
        yield from self.accounts
        yield from self.payments
        if not self.req_ts:
            return
        acct = np.concatenate(self.req_account)
        ts = np.concatenate(self.req_ts)
        ip = np.concatenate(self.req_ip)
        tpl = np.concatenate(self.req_template)
        ua = np.concatenate(self.req_ua)
        order = np.argsort(ts, kind="stable")
        rng = np.random.default_rng(self.params.seed + 1)
        ids = [a["id"] for a in self.accounts]
        iso = _iso_cache()
        seq = 0
        for start in range(0, len(order), chunk):
            sel = order[start : start + chunk]
            toks = rng.integers(20, 400, size=(len(sel), 2))
            for j, i in enumerate(sel.tolist()):
                seq += 1
                t = int(ts[i])
                yield {
                    "type": "request",
                    "id": f"req_{seq:09d}",
                    "account_id": ids[acct[i]],
                    "ts": iso(t) + f".{(t * 7919 + j) % 1000:03d}Z",
                    "ip": _ip(int(ip[i])),
                    "user_agent": USER_AGENTS[ua[i]],
                    "model": "model-large",
                    "prompt": self._prompt(int(tpl[i]), rng),
                    "input_tokens": int(toks[j, 0]),
                    "output_tokens": int(toks[j, 1] * 3),
                }

    def _prompt(self, template: int, rng: np.random.Generator) -> str:
        if template == UNIQUE:
            return prose.unique_prompt(rng)
        out = text.fill(self.templates[template], rng)
        return prose.rewrite(out, rng) if template in self.rewritten else out


def _iso_cache() -> Any:
    import datetime as dt

    cache: dict[int, str] = {}

    def iso(t: int) -> str:
        minute = t - t % 60
        base = cache.get(minute)
        if base is None:
            if len(cache) > 100_000:
                cache.clear()
            base = dt.datetime.fromtimestamp(minute, dt.UTC).strftime("%Y-%m-%dT%H:%M")
            cache[minute] = base
        return f"{base}:{t % 60:02d}"

    return iso


def _ip(v: int) -> str:
    return f"{v >> 24}.{(v >> 16) & 255}.{(v >> 8) & 255}.{v & 255}"


def _iso(t: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(int(t), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Builder:
    def __init__(self, p: WorldParams) -> None:
        self.p = p
        self.rng = np.random.default_rng(p.seed)
        self.w = World(params=p)
        self.end = T0 + p.days * DAY
        self.templates: dict[str, int] = {}
        self.personal = text.personal_templates(self.rng, max(200, p.n_benign // 4))
        self.public_ids = [self.template(t) for t in text.PUBLIC]
        self.public_weights = np.array([25, 20, 15, 12, 10, 8, 6, 4], dtype=float)
        self.public_weights /= self.public_weights.sum()
        self.personal_ids = np.array([self.template(t) for t in self.personal])
        self._ip_next = 0x0B000000  # residential pool starts at 11.0.0.0
        self._card = 0
        self._dev = 0
        self.role = "individual"

    # ---- identifiers
    def template(self, t: str) -> int:
        if t not in self.templates:
            self.templates[t] = len(self.templates)
            self.w.templates.append(t)
        return self.templates[t]

    def fresh_ips(self, n: int, *, per_24: int = 1) -> np.ndarray:
        """``n`` IPs; ``per_24`` consecutive ones share a /24."""
        blocks = (n + per_24 - 1) // per_24
        base = self._ip_next + (np.arange(blocks) << 8)
        self._ip_next += blocks << 8
        hosts = self.rng.integers(1, 254, size=n)
        return (np.repeat(base, per_24)[:n] + hosts).astype(np.int64)

    def residential(self, n: int) -> np.ndarray:
        """Random residential IPs across a large space (rarely share a /24)."""
        return (0x30000000 + self.rng.integers(0, 1 << 26, size=n)).astype(np.int64)

    def card(self) -> str:
        self._card += 1
        return f"pmfp_{self._card:08x}{int(self.rng.integers(1 << 16)):04x}"

    def device(self) -> str:
        self._dev += 1
        return f"dev_{self._dev:07x}{int(self.rng.integers(1 << 12)):03x}"

    def person(self) -> tuple[str, str]:
        f = FIRST[int(self.rng.integers(len(FIRST)))]
        la = LAST[int(self.rng.integers(len(LAST)))]
        return f, la

    def add_account(
        self,
        label: str,
        *,
        created: int,
        email: str,
        name: str | None,
        signup_ip: int,
        ua: int,
        device: str | None,
        org: str | None = None,
        country: str = "US",
    ) -> int:
        idx = len(self.w.accounts)
        rec: dict[str, Any] = {
            "type": "account",
            "id": f"acct_{idx:07d}",
            "created_at": _iso(created),
            "email": email,
            "country": country,
            "signup_ip": _ip(int(signup_ip)),
            "user_agent": USER_AGENTS[ua],
        }
        if name:
            rec["name"] = name
        if device:
            rec["device_id"] = device
        if org:
            rec["org_id"] = org
        self.w.accounts.append(rec)
        self.w.labels.append(label)
        self.w.roles.append(self.role if label == "benign" else label)
        return idx

    def add_card(
        self,
        idx: int,
        fp: str,
        *,
        bin_: str = "453201",
        postcode: str | None = None,
        name: str | None = None,
    ) -> None:
        rec: dict[str, Any] = {
            "type": "payment_method",
            "account_id": f"acct_{idx:07d}",
            "fingerprint": fp,
            "brand": "visa",
            "bin": bin_,
            "last4": f"{int(self.rng.integers(10_000)):04d}",
        }
        if postcode:
            rec["billing_postcode"] = postcode
        if name:
            rec["billing_name"] = name
        self.w.payments.append(rec)

    def add_requests(
        self, idx: np.ndarray, ts: np.ndarray, ip: np.ndarray, tpl: np.ndarray, ua: np.ndarray
    ) -> None:
        keep = (ts >= T0) & (ts < self.end)
        self.w.req_account.append(idx[keep].astype(np.int32))
        self.w.req_ts.append(ts[keep].astype(np.int64))
        self.w.req_ip.append(ip[keep].astype(np.int64))
        self.w.req_template.append(tpl[keep].astype(np.int32))
        self.w.req_ua.append(ua[keep].astype(np.int16))

    # ---- timing helpers
    def diurnal(self, n: int, *, start: int | None = None, business: bool = False) -> np.ndarray:
        lo = max(T0, start or T0)
        days = self.rng.integers(0, max(1, (self.end - lo) // DAY), size=n)
        if business:
            hours = self.rng.integers(9, 17, size=n)
            day0 = (lo - T0) // DAY
            # move weekend days (T0 is a Thursday) to the Monday after
            dow = (day0 + days + 3) % 7
            days = days + np.where(dow == 5, 2, np.where(dow == 6, 1, 0))
        else:
            hours = self.rng.choice(24, size=n, p=_DIURNAL)
        secs = self.rng.integers(0, 3600, size=n)
        return (lo - (lo - T0) % DAY) + days * DAY + hours * 3600 + secs

    def ua(self) -> int:
        return int(self.rng.choice(len(USER_AGENTS), p=UA_WEIGHTS / UA_WEIGHTS.sum()))

    def email(
        self, first: str, last: str, *, domain: str | None = None, digits: bool | None = None
    ) -> str:
        if digits is None:
            digits = bool(self.rng.random() < 0.3)
        local = f"{first}.{last}" if self.rng.random() < 0.6 else f"{first}{last[0]}"
        if digits:
            local += str(int(self.rng.integers(10, 9999)))
        local += f"{len(self.w.accounts):x}" if domain is None else ""
        dom = domain or PROVIDERS[int(self.rng.integers(len(PROVIDERS)))]
        return f"{local}@{dom}"


_DIURNAL = np.array([1, 1, 1, 1, 1, 1, 2, 3, 5, 6, 6, 6, 5, 6, 6, 6, 6, 6, 6, 7, 7, 6, 4, 2], float)
_DIURNAL /= _DIURNAL.sum()
