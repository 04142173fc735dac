"""Typed records that flow through the pipeline."""

from __future__ import annotations

from enum import IntEnum
from typing import Literal, get_args

#: Community detection engines (graph.community runs them; the CLI and settings offer them).
Engine = Literal["leiden-cpm", "leiden", "igraph-multilevel", "louvain"]
ENGINES: tuple[str, ...] = get_args(Engine)

#: Requests are counted per account, template and window of this many seconds: short enough
#: that orchestrated bursts stand out, long enough that a window row summarises many requests.
ACTIVITY_WINDOW_SECONDS = 600


class Kind(IntEnum):
    """What an observed or declared value is. Stored as a small integer; never renumber."""

    IP = 1
    IP_RANGE = 2
    USER_AGENT = 3
    TEMPLATE = 4
    API_KEY = 5
    MODEL = 6
    EMAIL = 12
    PHONE = 13
    DEVICE = 14
    NAME = 15
    ATTRIBUTE = 17
    CARD = 20
    BIN_POSTCODE = 21
    BILLING_NAME = 22


class Family(IntEnum):
    """Independent evidence families; a cluster tied by several is more suspicious."""

    PAYMENT = 0
    NETWORK = 1
    TIMING = 2
    PROMPTS = 3
    IDENTITY = 4

    @property
    def label(self) -> str:
        return self.name.lower()


KIND_FAMILY: dict[Kind, Family] = {
    Kind.IP: Family.NETWORK,
    Kind.IP_RANGE: Family.NETWORK,
    Kind.USER_AGENT: Family.IDENTITY,
    Kind.TEMPLATE: Family.PROMPTS,
    Kind.API_KEY: Family.IDENTITY,
    Kind.EMAIL: Family.IDENTITY,
    Kind.PHONE: Family.IDENTITY,
    Kind.DEVICE: Family.IDENTITY,
    Kind.NAME: Family.IDENTITY,
    Kind.ATTRIBUTE: Family.IDENTITY,
    Kind.CARD: Family.PAYMENT,
    Kind.BIN_POSTCODE: Family.PAYMENT,
    Kind.BILLING_NAME: Family.PAYMENT,
}
