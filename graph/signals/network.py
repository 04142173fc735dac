"""Network evidence: exact IPs and the ranges around them.

>>> parse_ip("2001:db8:85a3::8a2e:370:7334")
('2001:db8:85a3::8a2e:370:7334', '2001:db8:85a3::/64')
>>> parse_ip("198.51.100.23")
('198.51.100.23', '198.51.100.0/24')
>>> parse_ip("999.1.1.1") is None
True
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

IPV4_PREFIX = 24
IPV6_PREFIX = 64


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_CANONICAL_V4 = re.compile(rf"({_OCTET}\.{_OCTET}\.{_OCTET})\.{_OCTET}")


def parse_ip(text: str) -> tuple[str, str] | None:
    """Canonical address and its range (/24 for IPv4, /64 for IPv6), or None if invalid.

    Canonical dotted quads (the common case) are checked with one regex; anything else goes
    through :mod:`ipaddress`.
    """
    m = _CANONICAL_V4.fullmatch(text)
    if m is not None:
        return text, f"{m.group(1)}.0/{IPV4_PREFIX}"
    return _parse_other(text)


@lru_cache(maxsize=1 << 16)
def _parse_other(text: str) -> tuple[str, str] | None:
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    bits = IPV4_PREFIX if addr.version == 4 else IPV6_PREFIX
    net = ipaddress.ip_network(f"{addr}/{bits}", strict=False)
    return str(addr), str(net)
