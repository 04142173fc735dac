"""Innocent look-alikes that real traffic has and a naive detector flags.

- Research customers: a declared organisation (company domain, one corporate card, an office
  range, long-standing accounts) whose staff run chain-of-thought evaluations every night,
  all at the same minutes, with one eval template.
- Workshop cohorts: 30-60 students sign up within an hour behind a campus NAT, work the same
  exercise template in step with the instructor on the event day, then use the platform as
  anyone would.
- Agent-framework users: hundreds of unrelated people sending one open-source framework's
  tool-trace system prompt (a distillation-looking signature, shared by strangers).
"""

from __future__ import annotations

import numpy as np

from worlds import text
from worlds.builder import DAY, T0, Builder
from worlds.people import benign_person

EVAL_WINDOW = 900  # a nightly eval run sends its items within 15 minutes
STEP_SECONDS = 900  # a workshop's instructor moves to the next step every 15 minutes


def research_customers(b: Builder, n: int) -> None:
    """Labs of 10-25 staff; every night each member's harness sends 1-5 eval items."""
    rng, done, lab = b.rng, 0, 0
    b.role = "research"
    while done < n:
        lab += 1
        k = int(rng.integers(10, 26))
        org, domain = f"lab_{lab:03d}", f"lab{lab}.example"
        office, card = b.fresh_ips(2, per_24=2), b.card()
        evals = b.template(text.internal_template(rng, research=True))
        start = T0 + int(rng.integers(0, 5)) * 3600 + int(rng.integers(0, 3600))
        nights = start + np.arange(b.p.days) * DAY
        for _ in range(k):
            old = int(T0 - rng.integers(60 * DAY, 700 * DAY))
            idx = benign_person(
                b, ips=office, card=card, org=org, domain=domain, business=True, created=old
            )
            per_night = rng.integers(1, 6, size=len(nights))
            ts = np.repeat(nights, per_night) + rng.integers(0, EVAL_WINDOW, size=per_night.sum())
            m = len(ts)
            ip = office[rng.integers(0, len(office), size=m)]
            b.add_requests(np.full(m, idx), ts, ip, np.full(m, evals), np.zeros(m, int))
        done += k


def workshops(b: Builder, n: int) -> None:
    """Cohorts of 30-60 students; the event's exercises in step, ordinary use after."""
    rng, done, cohort = b.rng, 0, 0
    b.role = "workshop"
    while done < n:
        cohort += 1
        k = int(rng.integers(30, 61))
        day = int(rng.integers(1, max(2, b.p.days - 2)))
        event = T0 + day * DAY + int(rng.integers(9, 14)) * 3600
        nat = b.fresh_ips(2, per_24=2)
        exercise = b.template(text.exercise_template(rng))
        steps = event + 1800 + np.arange(int(rng.integers(5, 10))) * STEP_SECONDS
        domain = f"uni{cohort}.edu"
        for _ in range(k):
            home = int(b.residential(1)[0])
            idx = benign_person(
                b,
                ips=np.array([nat[int(rng.integers(2))], home], dtype=np.int64),
                ip_pool=np.array([home], dtype=np.int64),
                domain=domain if rng.random() < 0.6 else None,
                created=event + int(rng.integers(0, 3600)),
            )
            # most students follow most steps, each within five minutes of the instructor
            ts = steps[rng.random(len(steps)) < 0.85] + rng.integers(0, 300)
            m = len(ts)
            ip = nat[rng.integers(0, 2, size=m)]
            b.add_requests(np.full(m, idx), ts, ip, np.full(m, exercise), np.zeros(m, int))
        done += k


def agent_framework_users(b: Builder, n: int) -> None:
    """Unrelated people for whom half of their requests go through the agent framework."""
    b.role = "agent_framework"
    framework = b.template(text.AGENT_FRAMEWORK)
    for _ in range(n):
        benign_person(b, internal=framework)
