"""One benign person: an account, maybe a card, and requests shaped by a day's rhythm."""

from __future__ import annotations

import numpy as np

from worlds.builder import DAY, T0, UNIQUE, Builder


def benign_person(
    b: Builder,
    label: str = "benign",
    *,
    ips: np.ndarray | None = None,
    ip_pool: np.ndarray | None = None,
    card: str | None = None,
    org: str | None = None,
    domain: str | None = None,
    business: bool = False,
    internal: int | None = None,
    shared_home: int | None = None,
    created: int | None = None,
) -> int:
    """One ordinary person's account, card and requests; the arguments place them in a
    household, behind a NAT or in a company."""
    rng = b.rng
    first, last = b.person()
    if created is None:
        created = int(
            T0 - rng.integers(0, 365 * DAY)
            if rng.random() < 0.8
            else T0 + rng.integers(0, b.p.days * DAY)
        )
    if ips is None:
        home = shared_home if shared_home is not None else int(b.residential(1)[0])
        ips = np.array([home, *b.residential(int(rng.integers(0, 3)))], dtype=np.int64)
    ua = b.ua()
    idx = b.add_account(
        label,
        created=created,
        email=b.email(first, last, domain=domain),
        name=f"{first.title()} {last.title()}",
        signup_ip=int(ips[0]),
        ua=ua,
        device=b.device(),
        org=org,
    )
    if card is not None:
        b.add_card(
            idx,
            card,
            postcode=f"{int(rng.integers(10000, 99999))}",
            name=f"{last.title()} household" if org is None else org.upper(),
        )
    elif rng.random() < 0.6:
        b.add_card(
            idx,
            b.card(),
            bin_=f"{int(rng.integers(400000, 560000))}",
            postcode=f"{int(rng.integers(10000, 99999))}",
            name=f"{first} {last}",
        )
    mean = b.p.mean_requests
    if b.p.prompts == "realistic":
        # a person who joined a week before the log ends has made a week's requests, not a
        # month's: volume follows the days the account was alive in the log
        alive = (b.end - max(T0, created)) / (b.end - T0)
        mean = max(mean * alive, 1.0)
    n = max(1, int(rng.lognormal(np.log(mean), 0.9)))
    ts = b.diurnal(n, start=created, business=business)
    own = b.personal_ids[rng.integers(0, len(b.personal_ids), size=int(rng.integers(1, 5)))]
    tpl = own[rng.integers(0, len(own), size=n)]
    public = rng.random(n) < b.p.public_template_share
    tpl = np.where(
        public,
        np.array(b.public_ids)[rng.choice(len(b.public_ids), size=n, p=b.public_weights)],
        tpl,
    )
    if b.p.prompts == "realistic":  # most of what people ask is their own one-off text
        tpl = np.where(~public & (rng.random(n) < b.p.unique_share), UNIQUE, tpl)
    if internal is not None:
        tpl = np.where(rng.random(n) < 0.5, internal, tpl)
    pool = ip_pool if ip_pool is not None else ips
    ip = pool[rng.integers(0, len(pool), size=n)]
    b.add_requests(np.full(n, idx), ts, ip, tpl, np.full(n, ua))
    return idx
