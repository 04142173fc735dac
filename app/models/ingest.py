"""Tables that hold ingested data, already reduced to what detection needs.

Personal values are linked through ``*_key`` columns: 64-bit keyed hashes (BLAKE2b with the
deployment's secret). Clear values are kept only where an analyst must act on them (see
docs/architecture.md, "Personal data").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    email: Mapped[str | None] = mapped_column(Text)
    email_key: Mapped[int | None] = mapped_column(BigInteger)
    email_domain: Mapped[str | None] = mapped_column(String(255))
    email_shape: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(Text)
    name_key: Mapped[int | None] = mapped_column(BigInteger)
    phone: Mapped[str | None] = mapped_column(String(32))
    phone_key: Mapped[int | None] = mapped_column(BigInteger)
    country: Mapped[str | None] = mapped_column(String(2))
    signup_ip: Mapped[str | None] = mapped_column(String(45))
    signup_ip_key: Mapped[int | None] = mapped_column(BigInteger)
    signup_prefix_key: Mapped[int | None] = mapped_column(BigInteger)
    user_agent: Mapped[str | None] = mapped_column(Text)
    user_agent_key: Mapped[int | None] = mapped_column(BigInteger)
    device_id: Mapped[str | None] = mapped_column(String(255))
    device_key: Mapped[int | None] = mapped_column(BigInteger)
    org_id: Mapped[str | None] = mapped_column(String(128))
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ingested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PaymentMethod(Base):
    __tablename__ = "payment_methods"

    account_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    fingerprint_key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(255))
    brand: Mapped[str | None] = mapped_column(String(32))
    bin: Mapped[str | None] = mapped_column(String(8))
    last4: Mapped[str | None] = mapped_column(String(4))
    exp_month: Mapped[int | None] = mapped_column(SmallInteger)
    exp_year: Mapped[int | None] = mapped_column(SmallInteger)
    billing_name: Mapped[str | None] = mapped_column(Text)
    billing_name_key: Mapped[int | None] = mapped_column(BigInteger)
    billing_postcode: Mapped[str | None] = mapped_column(String(32))
    billing_country: Mapped[str | None] = mapped_column(String(2))
    added_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ingested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Observation(Base):
    """Per-account aggregate of one observed value from request logs (IP, range, UA, ...)."""

    __tablename__ = "observations"
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012  # one B-tree, clustered by key

    account_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    value_key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)
    first_seen: Mapped[int] = mapped_column(BigInteger, doc="epoch seconds")
    last_seen: Mapped[int] = mapped_column(BigInteger, doc="epoch seconds")


class ObservedValue(Base):
    """Display form of an observed value, once per distinct value (for explanations).
    Prompt-template skeletons are kept apart, in ``template_texts``."""

    __tablename__ = "observed_values"
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012

    kind: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    value_key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class TemplateText(Base):
    """The skeleton text of a distinct prompt template, shown in explanations; dropped by the
    first detection run that finds no second account using the template's group
    (``app.detection.prune``).

    On SQLite this is a rowid table with the key in its own index (a ``BIGINT`` primary key is
    not the rowid): new texts are appended at the end of the table, and only the narrow key
    index takes random inserts. Kept in ``observed_values`` (keyed on (kind, key), without a
    rowid) the texts went into random places of a B-tree that holds every text, several GB
    on a realistic 1M-account world, and each ingest transaction rewrote most of its pages;
    a detection run also had to copy every other observed value to drop the one-offs."""

    __tablename__ = "template_texts"

    template_key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    value: Mapped[str] = mapped_column(Text)


class Activity(Base):
    """Requests per account per time window and prompt template (0 = no prompt)."""

    __tablename__ = "activity"
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012

    account_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    window: Mapped[int] = mapped_column(BigInteger, primary_key=True, doc="epoch // window")
    template_key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class AccountUsage(Base):
    """Running totals of an account's requests."""

    __tablename__ = "account_usage"

    account_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    requests: Mapped[int] = mapped_column(BigInteger)
    input_tokens: Mapped[int] = mapped_column(BigInteger)
    output_tokens: Mapped[int] = mapped_column(BigInteger)
    first_seen: Mapped[int] = mapped_column(BigInteger)
    last_seen: Mapped[int] = mapped_column(BigInteger)


class RequestKey(Base):
    """Digest of every accepted request (its id, or its content): makes re-sends no-ops."""

    __tablename__ = "request_keys"

    # On SQLite an INTEGER PRIMARY KEY is the rowid itself: one B-tree instead of two.
    key: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )


class PromptSample(Base):
    """A bounded sample of raw prompt texts per template, kept as evidence."""

    __tablename__ = "prompt_samples"

    template_key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    slot: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    # indexed: ingest counts each account's samples against its allowance
    account_id: Mapped[str] = mapped_column(String(128), index=True)
    ts: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)


class TemplateSignature(Base):
    """What template grouping needs of a distinct template, computed once at ingest: its LSH
    band keys (``graph.signals.prompts.band_keys``: the b-bit MinHash signature, four 8-bit
    values a band, 32 bands as little-endian uint32s in one 128-byte ``bands`` value), its
    word count and its distillation signature code. Detection groups templates on these
    integers; the skeleton text is not needed for it and is dropped for templates only one
    account has used.

    On SQLite the key is not the rowid (a ``BIGINT`` primary key is a separate index): new
    rows are appended at the end of the table and only the narrow key index takes random
    inserts, as in ``template_texts``. With the key as rowid (revisions 0005-0006) every
    ingest transaction inserted its new templates all over a table of ~150 bytes a template
    (1.9 GB at 12.7M templates) and rewrote most of its pages. The loader reads the table in
    rowid slices and sorts by key (app.detection.loader)."""

    __table__ = Table(
        "template_signatures",
        Base.metadata,
        Column("template_key", BigInteger, primary_key=True, autoincrement=False),
        Column("words", Integer, nullable=False),
        Column("signature", SmallInteger, nullable=False),
        Column("bands", LargeBinary, nullable=False),
    )
