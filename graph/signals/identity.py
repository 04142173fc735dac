"""Identity evidence: normalised emails, their machine-made shapes, names and phones.

>>> normalise_email("J.Doe+promo@GoogleMail.com")
'jdoe@gmail.com'
>>> email_shape("kate.miller1987@example.com")
'name+digits'
"""

from __future__ import annotations

import re

# Providers where dots in the local part are ignored for delivery.
DOT_INSENSITIVE = frozenset({"gmail.com"})
DOMAIN_ALIASES = {"googlemail.com": "gmail.com"}
# A short built-in list of throw-away mail domains; deployments extend it via attributes.
DISPOSABLE_DOMAINS = frozenset(
    {
        "mailinator.com",
        "guerrillamail.com",
        "10minutemail.com",
        "tempmail.com",
        "temp-mail.org",
        "yopmail.com",
        "trashmail.com",
        "sharklasers.com",
        "getnada.com",
        "dispostable.com",
        "maildrop.cc",
        "throwawaymail.com",
    }
)
FREE_PROVIDERS = frozenset(
    {
        "gmail.com",
        "outlook.com",
        "hotmail.com",
        "yahoo.com",
        "proton.me",
        "icloud.com",
        "gmx.net",
        "mail.ru",
        "qq.com",
        "163.com",
        "yandex.ru",
    }
)

_SHAPES = (
    ("name+digits", re.compile(r"^[a-z]+[._]?[a-z]*\d{2,}$")),
    ("random", re.compile(r"^(?=.*\d)(?=.*[a-z])[a-z0-9]{10,}$")),
    ("digits", re.compile(r"^\d+$")),
)


def normalise_email(email: str) -> str:
    """Lower-case, drop plus-tags, apply provider dot rules and domain aliases."""
    local, _, domain = email.strip().lower().rpartition("@")
    if not local:
        return email.strip().lower()
    domain = DOMAIN_ALIASES.get(domain, domain)
    local = local.split("+", 1)[0]
    if domain in DOT_INSENSITIVE:
        local = local.replace(".", "")
    return f"{local}@{domain}"


def email_shape(email: str) -> str:
    """Classify the local part: ``name+digits``, ``random``, ``digits`` or ``plain``."""
    local = email.rpartition("@")[0].lower()
    for name, pattern in _SHAPES:
        if pattern.match(local):
            return name
    return "plain"


def email_domain(email: str) -> str:
    return email.rpartition("@")[2].lower()


def normalise_name(name: str) -> str:
    """Fold case, punctuation and word order so ``Doe, John`` equals ``john doe``.

    >>> normalise_name("Doe,  John") == normalise_name("john DOE")
    True
    """
    words = re.findall(r"[^\W\d_]+", name.lower())
    return " ".join(sorted(words))


def normalise_phone(phone: str) -> str:
    return "+" + re.sub(r"\D", "", phone)
