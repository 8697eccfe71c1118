"""The tables, as SQLAlchemy 2 typed mappings.

Rules that must hold whatever code writes the rows (a settlement has a
counterparty, an amount is never zero, an entry is reversed at most once)
are also database constraints, so a bug elsewhere cannot break them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_login import UserMixin
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.db import Base, UTCDateTime, Weight, utcnow
from ledger.domain.vocabulary import EntryKind, MemberRole, PartnerRole, PartnerType, PoolSide, SignOffStatus

# Field lengths, shared with the validation in services so the two never disagree.
NAME_MAX = 120
CAUSE_MAX = 500
DESCRIPTION_MAX = 500
REFERENCE_MAX = 300
EMAIL_MAX = 254


def _enum(cls, name: str) -> Enum:
    """Enums stored as their string values with a CHECK constraint (portable, readable in SQL)."""
    return Enum(cls, name=name, native_enum=False, create_constraint=True,
                values_callable=lambda e: [m.value for m in e], length=32)


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user")


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored, the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class Alliance(Base):
    __tablename__ = "alliances"
    __table_args__ = (CheckConstraint("term_end >= start_date", name="term_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    cause: Mapped[str] = mapped_column(Text, default="")
    currency: Mapped[str] = mapped_column(String(3))
    start_date: Mapped[date] = mapped_column(Date)
    term_end: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The last event number given out; bumped (and row-locked) by every write, see services.activity.
    event_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    partners: Mapped[list[Partner]] = relationship(
        back_populates="alliance", order_by="Partner.name")
    categories: Mapped[list[Category]] = relationship(order_by="Category.name")


class Partner(Base):
    __tablename__ = "partners"
    __table_args__ = (UniqueConstraint("alliance_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliances.id"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    role: Mapped[PartnerRole] = mapped_column(_enum(PartnerRole, "partner_role"))
    type: Mapped[PartnerType] = mapped_column(_enum(PartnerType, "partner_type"))

    alliance: Mapped[Alliance] = relationship(back_populates="partners")


class Category(Base):
    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("alliance_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliances.id"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("alliance_id", "user_id"),
        CheckConstraint("role <> 'partner_member' OR partner_id IS NOT NULL",
                        name="partner_member_has_partner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliances.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[MemberRole] = mapped_column(_enum(MemberRole, "member_role"))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Alert this member in the page when another partner records an entry of at least this many cents.
    notify_above: Mapped[int | None] = mapped_column(BigInteger)

    user: Mapped[User] = relationship(back_populates="memberships")
    alliance: Mapped[Alliance] = relationship()
    partner: Mapped[Partner | None] = relationship()


class AgreementVersion(Base):
    """One version of the split agreement, in force from ``effective_from`` until the next."""

    __tablename__ = "agreement_versions"
    __table_args__ = (
        UniqueConstraint("alliance_id", "number"),
        UniqueConstraint("alliance_id", "effective_from", name="uq_agreement_versions_effective"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliances.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    pools: Mapped[list[Pool]] = relationship(order_by="Pool.position", back_populates="version")
    created_by: Mapped[User | None] = relationship()


class Pool(Base):
    __tablename__ = "pools"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("agreement_versions.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    side: Mapped[PoolSide] = mapped_column(_enum(PoolSide, "pool_side"))
    #: True: the pool covers every category, including ones added later.
    all_categories: Mapped[bool] = mapped_column(Boolean, default=True)

    version: Mapped[AgreementVersion] = relationship(back_populates="pools")
    kinds: Mapped[list[PoolKind]] = relationship(cascade="all, delete-orphan")
    categories: Mapped[list[PoolCategory]] = relationship(cascade="all, delete-orphan")
    shares: Mapped[list[PoolShare]] = relationship(cascade="all, delete-orphan",
                                                   order_by="PoolShare.partner_id")


class PoolKind(Base):
    __tablename__ = "pool_kinds"

    pool_id: Mapped[int] = mapped_column(ForeignKey("pools.id"), primary_key=True)
    kind: Mapped[EntryKind] = mapped_column(_enum(EntryKind, "pool_entry_kind"), primary_key=True)


class PoolCategory(Base):
    __tablename__ = "pool_categories"

    pool_id: Mapped[int] = mapped_column(ForeignKey("pools.id"), primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), primary_key=True)

    category: Mapped[Category] = relationship()


class PoolShare(Base):
    __tablename__ = "pool_shares"
    __table_args__ = (CheckConstraint("weight > 0", name="weight_positive"),)

    pool_id: Mapped[int] = mapped_column(ForeignKey("pools.id"), primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), primary_key=True)
    weight: Mapped[Decimal] = mapped_column(Weight)

    partner: Mapped[Partner] = relationship()


class Entry(Base):
    """A ledger entry. Rows are only ever inserted: a correction is a reversal row.

    ``version_id`` and ``pool_id`` record which agreement version and pool the
    entry falls under; a reversal carries its original's, so the pair nets to
    zero in every balance.
    """

    __tablename__ = "entries"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        CheckConstraint(
            "(kind = 'settlement') = (counterparty_id IS NOT NULL)", name="settlement_counterparty"),
        CheckConstraint("counterparty_id IS NULL OR counterparty_id <> partner_id",
                        name="counterparty_not_self"),
        CheckConstraint("kind = 'settlement' OR (pool_id IS NOT NULL AND category_id IS NOT NULL)",
                        name="pooled_unless_settlement"),
        CheckConstraint("kind <> 'settlement' OR pool_id IS NULL", name="settlement_unpooled"),
        Index("ix_entries_ledger", "alliance_id", "entry_date", "id"),
        Index("ix_entries_balance", "alliance_id", "entry_date", "kind", "partner_id",
              "counterparty_id", "pool_id", "amount"),
        # The whole-term balance and the ledger's totals group by these columns: in this order the
        # groups come straight off the index, with no sort of every entry (SQLite's temp B-tree
        # took ~60 ms at 100,000 entries, this ~15 ms; see benchmarks/balance.py).
        Index("ix_entries_grouping", "alliance_id", "kind", "partner_id", "counterparty_id", "pool_id",
              "entry_date", "amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliances.id"))
    entry_date: Mapped[date] = mapped_column(Date)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    kind: Mapped[EntryKind] = mapped_column(_enum(EntryKind, "entry_kind"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(String(DESCRIPTION_MAX))
    reference: Mapped[str] = mapped_column(String(REFERENCE_MAX), default="")
    counterparty_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))
    version_id: Mapped[int | None] = mapped_column(ForeignKey("agreement_versions.id"))
    pool_id: Mapped[int | None] = mapped_column(ForeignKey("pools.id"))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id"), unique=True)
    #: The import that created the entry, if it came from a spreadsheet.
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"), index=True)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    partner: Mapped[Partner] = relationship(foreign_keys=[partner_id])
    counterparty: Mapped[Partner | None] = relationship(foreign_keys=[counterparty_id])
    category: Mapped[Category | None] = relationship()
    pool: Mapped[Pool | None] = relationship()
    version: Mapped[AgreementVersion | None] = relationship()
    recorded_by: Mapped[User] = relationship()
    reverses: Mapped[Entry | None] = relationship(remote_side=[id], foreign_keys=[reverses_id])


class Activity(Base):
    """Who did what in an alliance: the feed, the audit trail, and the live event stream.

    ``seq`` numbers an alliance's events 1, 2, 3 ... in commit order (the
    alliance row is locked while it is handed out), so a page that saw event
    ``n`` resumes after a lost connection by asking for ``seq > n``.
    """

    __tablename__ = "activity"
    __table_args__ = (UniqueConstraint("alliance_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliances.id"))
    seq: Mapped[int] = mapped_column(BigInteger)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(40))
    summary: Mapped[str] = mapped_column(String(600))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User | None] = relationship()
    entry: Mapped[Entry | None] = relationship()


class Period(Base):
    """A closed accounting period: nothing may be recorded, reversed or imported with a date inside it.

    Periods of an alliance follow each other without gaps: each starts the day after the previous
    one ends (the first at the alliance's start), so "closed through D" is the latest end date.
    """

    __tablename__ = "periods"
    __table_args__ = (
        UniqueConstraint("alliance_id", "end_date"),
        CheckConstraint("end_date >= start_date", name="period_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliances.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    closed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    closed_by: Mapped[User] = relationship()


class SignOff(Base):
    """A partner's sign-off or dispute of its statement for a period; the newest per partner counts."""

    __tablename__ = "signoffs"
    __table_args__ = (Index("ix_signoffs_period_partner", "period_id", "partner_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    status: Mapped[SignOffStatus] = mapped_column(_enum(SignOffStatus, "signoff_status"))
    comment: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    period: Mapped[Period] = relationship()
    partner: Mapped[Partner] = relationship()
    user: Mapped[User] = relationship()


class ImportMapping(Base):
    """How an alliance's spreadsheet columns map to entry fields, remembered for the next import (JSON)."""

    __tablename__ = "import_mappings"

    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliances.id"), primary_key=True)
    mapping: Mapped[str] = mapped_column(Text)
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ImportBatch(Base):
    """One imported file; its SHA-256 makes importing the same file twice a no-op that says so."""

    __tablename__ = "import_batches"
    __table_args__ = (UniqueConstraint("alliance_id", "file_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliances.id"))
    file_sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    row_count: Mapped[int] = mapped_column(Integer)
    imported_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    imported_by: Mapped[User] = relationship()
