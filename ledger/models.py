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

from ledger.clock import DEFAULT_TIMEZONE, TIMEZONE_MAX
from ledger.db import Base, Quantity, UTCDateTime, Weight, utcnow
from ledger.domain.vocabulary import (
    Decision,
    EntryKind,
    MemberRole,
    PartnerRole,
    PartnerType,
    PoolSide,
    QuorumRule,
    SignOffStatus,
    TargetCombine,
    TargetDirection,
    TargetPeriod,
)

# Field lengths, shared with the validation in services so the two never disagree.
NAME_MAX = 120
CAUSE_MAX = 500
DESCRIPTION_MAX = 500
REFERENCE_MAX = 300
EMAIL_MAX = 254
TEXT_MAX = 4000
UNIT_MAX = 40
IDEMPOTENCY_KEY_MAX = 100
SUMMARY_MAX = 600


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

    #: Not a column: the key of the log-in session this object was loaded for (see ``LoginSession``);
    #: flask-login keeps ``get_id()`` in the session cookie and in the remember-me cookie.
    login_key = None
    #: Not a column: that log-in session's row id (the live stream re-checks it).
    login_session_id = None

    def get_id(self) -> str:
        """The key of this log-in's ``LoginSession``, which both cookies carry (see web.auth.load_user).

        Never the user's own id: a cookie must name a server-side session that log-out can end.
        """
        if not self.login_key:
            raise RuntimeError("a user is logged in only through ledger.services.sessions.start")
        return self.login_key


class LoginSession(Base):
    """One log-in of a user in one browser: its key is in the cookies, only the key's SHA-256 is stored.

    Every request looks the key up (``web.auth.load_user``); log-out sets ``ended_at``, and so does a
    password change for every other session of the user, so a copied cookie stops working at once.
    """

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


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
    #: Who must have voted before a checkpoint's decision can be recorded.
    quorum: Mapped[QuorumRule] = mapped_column(_enum(QuorumRule, "quorum_rule"), default=QuorumRule.PROTAGONISTS,
                                               server_default=QuorumRule.PROTAGONISTS.value)
    #: Dependency concentration (Herfindahl index of shares of value put in, 0 to 1) above which it is flagged.
    hhi_threshold: Mapped[Decimal] = mapped_column(Weight, default=Decimal("0.5"), server_default="5000")
    #: Set by a "terminate" decision: the last day of the alliance; after it the books are read-only.
    ended_on: Mapped[date | None] = mapped_column(Date)
    #: Set by a "renegotiate" decision until the new split agreement effective from this day is saved.
    renegotiate_from: Mapped[date | None] = mapped_column(Date)
    #: The IANA time zone whose calendar day is the alliance's "today" (ledger.clock.today).
    timezone: Mapped[str] = mapped_column(String(TIMEZONE_MAX), default=DEFAULT_TIMEZONE,
                                          server_default=DEFAULT_TIMEZONE)

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
        # The ledger pages, newest first and paged by the keyset (entry_date, id): unfiltered, and by
        # each filter, so that a page reads its 50 entries off one index however deep it is and however
        # rare the filtered kind, category or partner (a partner filter reads the partner_id and the
        # counterparty_id index and merges). Balances and totals never scan entries: see EntryTotal.
        Index("ix_entries_ledger", "alliance_id", "entry_date", "id"),
        Index("ix_entries_ledger_kind", "alliance_id", "kind", "entry_date", "id"),
        Index("ix_entries_ledger_category", "alliance_id", "category_id", "entry_date", "id"),
        Index("ix_entries_ledger_partner", "alliance_id", "partner_id", "entry_date", "id"),
        Index("ix_entries_ledger_counterparty", "alliance_id", "counterparty_id", "entry_date", "id"),
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


class EntryTotal(Base):
    """Running sums of an alliance's entries at three grains: all time, month and day (``domain.grains``),
    and all time once more with the categories summed together (category 0), for the reads that need none.

    One row per (grain, period, kind, partner, counterparty, pool, category) with how many entries it
    holds and their sum. Balances, the ledger's totals and the home page read these rows instead of the
    entries, so they cost the same at 1,000 entries as at 1,000,000 (README, "How the cost grows").

    Only the database writes them: a trigger on ``entries`` (migration 0007) adds every inserted entry
    in the same statement, so no writer (a service, an import's bulk insert, a restore) can forget, and
    entries being append-only, the sums never need to go down. ``ledger.totals`` rebuilds them from the
    entries and checks them. No counterparty, pool or category is stored as 0, not NULL, so that the
    primary key can be the trigger's conflict target on both engines.
    """

    __tablename__ = "entry_totals"

    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliances.id"), primary_key=True)
    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[EntryKind] = mapped_column(_enum(EntryKind, "entry_kind"), primary_key=True)
    partner_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counterparty_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pool_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entries: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)


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
    summary: Mapped[str] = mapped_column(String(SUMMARY_MAX))
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


class CharterVersion(Base):
    """One version of the alliance's charter (value definition); a change is always a new version.

    The version in force on a day is the one with the latest ``effective_from`` on or before it (the
    highest number among equal dates). The alliance row mirrors the newest version's cause and term end,
    because every dated write checks the term.
    """

    __tablename__ = "charter_versions"
    __table_args__ = (UniqueConstraint("alliance_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliances.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[date] = mapped_column(Date)
    cause: Mapped[str] = mapped_column(Text, default="")
    objective: Mapped[str] = mapped_column(Text, default="")
    term_end: Mapped[date] = mapped_column(Date)
    #: Why this version was made (the coordinator's note, or the checkpoint decision that made it).
    change_note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by: Mapped[User | None] = relationship()
    commitments: Mapped[list[CharterCommitment]] = relationship(
        cascade="all, delete-orphan", order_by="CharterCommitment.partner_id")
    targets: Mapped[list[CharterTarget]] = relationship(
        cascade="all, delete-orphan", order_by="CharterTarget.target_id")


class CharterCommitment(Base):
    """What one partner expects to get from the alliance and commits to bring, in one charter version."""

    __tablename__ = "charter_commitments"

    version_id: Mapped[int] = mapped_column(ForeignKey("charter_versions.id"), primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), primary_key=True)
    expects: Mapped[str] = mapped_column(Text, default="")
    brings: Mapped[str] = mapped_column(Text, default="")

    partner: Mapped[Partner] = relationship()


class Target(Base):
    """A named measure of value creation (masks produced per month). Its identity outlives charter versions,
    so measurements keep pointing at it while versions change its target value."""

    __tablename__ = "targets"
    __table_args__ = (UniqueConstraint("alliance_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliances.id"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    unit: Mapped[str] = mapped_column(String(UNIT_MAX))
    period: Mapped[TargetPeriod] = mapped_column(_enum(TargetPeriod, "target_period"))
    direction: Mapped[TargetDirection] = mapped_column(_enum(TargetDirection, "target_direction"))
    combine: Mapped[TargetCombine] = mapped_column(_enum(TargetCombine, "target_combine"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CharterTarget(Base):
    """A target as one charter version sets it: a target left out of a version is not in force under it."""

    __tablename__ = "charter_targets"

    version_id: Mapped[int] = mapped_column(ForeignKey("charter_versions.id"), primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"), primary_key=True)
    value: Mapped[Decimal] = mapped_column(Quantity)

    target: Mapped[Target] = relationship()


class Measurement(Base):
    """A partner's figure for a target over one period; a newer one for the same partner and period
    supersedes it (the older stays in the history)."""

    __tablename__ = "measurements"
    __table_args__ = (Index("ix_measurements_target_period", "target_id", "period_start", "partner_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliances.id"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    #: The first day of the period measured (the month's first, the quarter's first, the term's start ...).
    period_start: Mapped[date] = mapped_column(Date)
    value: Mapped[Decimal] = mapped_column(Quantity)
    note: Mapped[str] = mapped_column(String(DESCRIPTION_MAX), default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    target: Mapped[Target] = relationship()
    partner: Mapped[Partner] = relationship()
    recorded_by: Mapped[User] = relationship()


class Checkpoint(Base):
    """A renewal checkpoint: scheduled, then opened (its snapshot frozen), then decided.

    ``snapshot`` is the JSON of the figures as of ``as_of``, written once when the checkpoint opens and
    never again; ``snapshot_sha256`` lets anyone check that it has not changed since.
    """

    __tablename__ = "checkpoints"
    __table_args__ = (
        UniqueConstraint("alliance_id", "due_date"),
        CheckConstraint("decision IS NULL OR opened_at IS NOT NULL", name="decided_after_opening"),
        CheckConstraint("(opened_at IS NULL) = (snapshot IS NULL)", name="snapshot_when_open"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliances.id"), index=True)
    due_date: Mapped[date] = mapped_column(Date)
    label: Mapped[str] = mapped_column(String(NAME_MAX))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: None when the checkpoint opened by itself on its date.
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    as_of: Mapped[date | None] = mapped_column(Date)
    snapshot: Mapped[str | None] = mapped_column(Text)
    snapshot_sha256: Mapped[str | None] = mapped_column(String(64))
    decision: Mapped[Decision | None] = mapped_column(_enum(Decision, "decision"))
    rationale: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: renew: the new end of the term; renegotiate: the new versions' effective date; terminate: the last day.
    decision_date: Mapped[date | None] = mapped_column(Date)

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    opened_by: Mapped[User | None] = relationship(foreign_keys=[opened_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class Assessment(Base):
    """A partner's assessment of the alliance at a checkpoint; the newest per partner counts."""

    __tablename__ = "assessments"
    __table_args__ = (
        Index("ix_assessments_checkpoint_partner", "checkpoint_id", "partner_id", "id"),
        CheckConstraint("satisfaction BETWEEN 1 AND 5", name="satisfaction_range"),
        CheckConstraint("fairness BETWEEN 1 AND 5", name="fairness_range"),
        CheckConstraint("commitment BETWEEN 1 AND 5", name="commitment_range"),
        CheckConstraint("trust BETWEEN 1 AND 5", name="trust_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    checkpoint_id: Mapped[int] = mapped_column(ForeignKey("checkpoints.id"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    satisfaction: Mapped[int] = mapped_column(Integer)
    fairness: Mapped[int] = mapped_column(Integer)
    commitment: Mapped[int] = mapped_column(Integer)
    trust: Mapped[int] = mapped_column(Integer)
    #: The Challenge values ticked, comma-separated in the vocabulary's order.
    challenges: Mapped[str] = mapped_column(String(300), default="")
    comments: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    partner: Mapped[Partner] = relationship()
    user: Mapped[User] = relationship()


class Vote(Base):
    """A steering member's vote at a checkpoint; a member may change it until the decision (newest counts)."""

    __tablename__ = "votes"
    __table_args__ = (Index("ix_votes_checkpoint_user", "checkpoint_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    checkpoint_id: Mapped[int] = mapped_column(ForeignKey("checkpoints.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: The partner the steering member sat for when voting (None for an independent member).
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))
    choice: Mapped[Decision] = mapped_column(_enum(Decision, "vote_choice"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()
    partner: Mapped[Partner | None] = relationship()


class ChainLink(Base):
    """One link of an alliance's hash chain (tamper evidence, ``ledger/domain/chain.py``).

    A table of its own rather than hash columns on each chained table: one record can have several links
    (a checkpoint is scheduled, opened, decided), a deleted record leaves its link behind to say so, the
    chained tables stay exactly as they were, and a new kind of record joins the chain without a migration
    of its table. ``(alliance_id, position)`` is unique: two writers can never fork the chain (they also
    take turns under the alliance row lock, see services.chain).
    """

    __tablename__ = "chain_links"
    __table_args__ = (
        UniqueConstraint("alliance_id", "position"),
        Index("ix_chain_links_record", "record_type", "record_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliances.id"))
    position: Mapped[int] = mapped_column(BigInteger)
    record_type: Mapped[str] = mapped_column(String(32))
    #: Not a foreign key: the record may be deleted (on purpose, with a removal link, or by tampering).
    record_id: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    previous_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdempotencyKey(Base):
    """A POST an API client marked with ``Idempotency-Key``, and the answer it got, to replay on a retry.

    Written in the same transaction as what the request created, so a retry after a lost response finds
    either both (and gets the same answer) or neither (and the request runs once). ``(user_id, key)`` is
    unique: two concurrent retries cannot both create an entry, the second one's insert fails and it replays.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliances.id"), index=True)
    key: Mapped[str] = mapped_column(String(IDEMPOTENCY_KEY_MAX))
    #: SHA-256 of the method, path and body: the same key with another request is refused, not replayed.
    request_digest: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    location: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoginFailure(Base):
    """A failed log-in (wrong email or password) or a request with an unknown API token: the audit trail of
    attempts to get in. The account owner sees the attempts on their account (Account page)."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The email that was typed (lower-cased as log-in compares it); empty for an unknown API token.
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), default="")
    #: The account that email belongs to, if any.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    remote_addr: Mapped[str] = mapped_column(String(45), default="")
    #: "web" (the log-in form) or "api" (a bearer token nobody issued, or one revoked).
    via: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
