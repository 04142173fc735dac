"""The benign population: ordinary users and the innocent look-alikes of real platforms.

Households share a card and a home IP; campus and carrier NATs put many strangers behind few
addresses; companies share a corporate card, an office range and an internal template; cron
jobs call at the same minute every hour.
"""

from __future__ import annotations

import numpy as np

from worlds import lookalikes, text
from worlds.builder import DAY, T0, Builder
from worlds.people import benign_person


def populate(b: Builder) -> None:
    """Every benign account of the world, look-alikes first, then ordinary individuals."""
    p, rng = b.p, b.rng
    n_family = int(p.n_benign * p.family_share)
    n_campus = int(p.n_benign * p.campus_share)
    n_carrier = int(p.n_benign * p.carrier_share)
    n_enterprise = int(p.n_benign * p.enterprise_share)
    n_cron = int(p.n_benign * p.cron_share)
    done = 0
    b.role = "household"
    while done < n_family:  # households: one card, one home IP
        k = int(rng.integers(2, 6))
        card, home = b.card(), int(b.residential(1)[0])
        for _ in range(k):
            benign_person(b, card=card if rng.random() < 0.8 else None, shared_home=home)
        done += k
    b.role = "campus"
    campus_ips = b.fresh_ips(2, per_24=2)
    for _ in range(n_campus):
        benign_person(b, ips=campus_ips)
    b.role = "carrier"
    carrier_pool = b.fresh_ips(60, per_24=30)
    for _ in range(n_carrier):
        benign_person(b, ips=carrier_pool[rng.integers(0, 60, size=1)], ip_pool=carrier_pool)
    done = 0
    org_no = 0
    while done < n_enterprise:  # companies: declared org, corporate card, office range
        org_no += 1
        k = int(rng.integers(8, 60))
        org = f"org_{org_no:04d}"
        domain = f"company{org_no}.example"
        office = b.fresh_ips(int(rng.integers(1, 5)), per_24=4)
        card = b.card()
        research = rng.random() < 0.15  # a lab that legitimately runs reasoning evals
        b.role = "research_lab" if research else "enterprise"
        internal = b.template(text.internal_template(rng, research=research))
        for _ in range(k):
            benign_person(
                b, ips=office, card=card, org=org, domain=domain, business=True, internal=internal
            )
        done += k
    b.role = "cron"
    for _ in range(n_cron):  # cron jobs: one account each, top of every hour
        first, last = b.person()
        created = int(T0 - rng.integers(30 * DAY, 365 * DAY))
        server = int(b.fresh_ips(1)[0])
        idx = b.add_account(
            "benign",
            created=created,
            email=b.email(first, last),
            name=None,
            signup_ip=server,
            ua=0,
            device=None,
        )
        b.add_card(idx, b.card(), bin_=f"{int(rng.integers(400000, 560000))}")
        every = int(rng.choice([3600, 1800, 7200]))
        ts = np.arange(T0, b.end, every) + rng.integers(
            0, 20, size=len(np.arange(T0, b.end, every))
        )
        # most jobs run their own task; some use a popular public template at the same minute
        tpl = int(b.public_ids[0]) if rng.random() < 0.3 else int(rng.choice(b.personal_ids))
        n = len(ts)
        b.add_requests(np.full(n, idx), ts, np.full(n, server), np.full(n, tpl), np.zeros(n, int))
    lookalikes.research_customers(b, int(p.n_benign * p.research_share))
    lookalikes.workshops(b, int(p.n_benign * p.workshop_share))
    lookalikes.agent_framework_users(b, int(p.n_benign * p.agent_framework_share))
    b.role = "individual"
    while len(b.w.accounts) < p.n_benign:
        benign_person(b)
