"""SQLAlchemy tables. Changes here need an Alembic revision in migrations/versions."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, Dialect, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps are stored and returned as aware UTC datetimes on every engine.

    SQLite keeps no time zone and hands back naive values; without this the API would mix
    naive and aware timestamps depending on the database.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class Escalation(Base):
    __tablename__ = "escalations"
    __table_args__ = (UniqueConstraint("idempotency_key", name="uq_escalations_idempotency_key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(Integer, index=True)
    agent_email: Mapped[str] = mapped_column(String(320))
    issue_type: Mapped[str] = mapped_column(String(64))
    area: Mapped[str | None] = mapped_column(String(200))
    request_type: Mapped[str | None] = mapped_column(String(200))
    priority: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(32))
    jira_issue_id: Mapped[str | None] = mapped_column(String(32))
    jira_key: Mapped[str | None] = mapped_column(String(64))
    error_code: Mapped[str | None] = mapped_column(String(64))
    # The client's Idempotency-Key: the same request sent again gets the same escalation.
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Link(Base):
    """A ticket linked to a Jira issue. The issue *id* is the identity: keys change on moves."""

    __tablename__ = "links"
    __table_args__ = (UniqueConstraint("ticket_id", "jira_issue_id", name="uq_links_ticket_issue"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(Integer, index=True)
    jira_issue_id: Mapped[str] = mapped_column(String(32), index=True)
    jira_key: Mapped[str] = mapped_column(String(64))
    escalation_id: Mapped[str | None] = mapped_column(ForeignKey("escalations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PhiDecision(Base):
    """What was done about PHI found in outbound text: labels, positions and a hash, never the text."""

    __tablename__ = "phi_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(Integer, index=True)
    escalation_id: Mapped[str | None] = mapped_column(ForeignKey("escalations.id"))
    agent_email: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(32))
    # The override reason was itself scanned and holds no PHI, or it would have been refused.
    reason: Mapped[str | None] = mapped_column(Text)
    findings: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InboundEvent(Base):
    """A webhook delivery, stored before it is acknowledged; processed afterwards.

    `payload` is kept only until the event is processed (it may carry comment text), then cleared.
    """

    __tablename__ = "inbound_events"
    __table_args__ = (UniqueConstraint("source", "delivery_id", name="uq_inbound_source_delivery"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(16))
    delivery_id: Mapped[str] = mapped_column(String(128))
    event_type: Mapped[str] = mapped_column(String(64))
    issue_id: Mapped[str | None] = mapped_column(String(32), index=True)
    ticket_id: Mapped[int | None] = mapped_column(Integer, index=True)
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending, processed, ignored, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # set while a failed event waits
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # a Zendesk write for it began


class Notification(Base):
    """An agent's "Notify linked issues": one comment (already PHI-checked) for one or more issues."""

    __tablename__ = "notifications"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(Integer, index=True)
    agent_email: Mapped[str] = mapped_column(String(320))
    body: Mapped[str] = mapped_column(Text)
    attachment_ids: Mapped[list[int]] = mapped_column(JSON)
    target_issue_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Delivery(Base):
    """One notification to one issue: its receipt (pending, sent, failed, retrying)."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("notification_id", "jira_issue_id", name="uq_delivery_notification_issue"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notification_id: Mapped[str] = mapped_column(ForeignKey("notifications.id"), index=True)
    ticket_id: Mapped[int] = mapped_column(Integer, index=True)
    jira_issue_id: Mapped[str] = mapped_column(String(32))
    jira_key: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(500))
    jira_comment_id: Mapped[str | None] = mapped_column(String(32))
    details: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)  # per attachment outcome
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Handoff(Base):
    """A Tier 1 agent's request that Tier 2 send a notification to one chosen issue."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(Integer, index=True)
    requested_by: Mapped[str] = mapped_column(String(320))
    target_issue_id: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    attachment_ids: Mapped[list[int]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending, done, cancelled
    done_by: Mapped[str | None] = mapped_column(String(320))
    notification_id: Mapped[str | None] = mapped_column(ForeignKey("notifications.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditRecord(Base):
    """One audit entry: ids, counts, a hash and codes, never a text. Append-only (triggers refuse changes)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    ticket_id: Mapped[int | None] = mapped_column(Integer, index=True)
    issue_id: Mapped[str | None] = mapped_column(String(32))
    issue_key: Mapped[str | None] = mapped_column(String(64))
    phi_findings: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    detail_code: Mapped[str | None] = mapped_column(String(64))


class Job(Base):
    """Durable work (the outbox): a vendor write to make, claimed by one worker at a time.

    `dedupe_key` is unique among jobs that still hold it: it is cleared when a job ends, so the
    same singleton (say, inbound processing) can be queued again afterwards.
    """

    __tablename__ = "jobs"
    __table_args__ = (UniqueConstraint("dedupe_key", name="uq_jobs_dedupe_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)  # pending, running, done, dead, discarded
    ticket_id: Mapped[int | None] = mapped_column(Integer, index=True)
    ordered: Mapped[bool] = mapped_column(default=True)
    escalation_id: Mapped[str | None] = mapped_column(String(36), index=True)
    delivery_id: Mapped[int | None] = mapped_column(Integer, index=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[dict[str, object] | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    leased_by: Mapped[str | None] = mapped_column(String(64))
    error_code: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SyncCursor(Base):
    """How far a periodic sync got (e.g. reconciliation: Jira updates seen up to this time)."""

    __tablename__ = "sync_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class NotedComment(Base):
    """A Jira comment (or field change: kind "changed", `comment_id` holding the history id) already
    written into a ticket's internal note: webhook replays, Jira Server's double events and
    reconciliation must not note it twice."""

    __tablename__ = "noted_comments"
    __table_args__ = (UniqueConstraint("ticket_id", "jira_issue_id", "comment_id", "kind",
                                       name="uq_noted_comment"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(Integer)
    jira_issue_id: Mapped[str] = mapped_column(String(32))
    comment_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # created, updated, changed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
