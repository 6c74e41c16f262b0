"""SQLAlchemy tables. Changes here need an Alembic revision in migrations/versions."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Escalation(Base):
    __tablename__ = "escalations"

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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Link(Base):
    """A ticket linked to a Jira issue. The issue *id* is the identity: keys change on moves."""

    __tablename__ = "links"
    __table_args__ = (UniqueConstraint("ticket_id", "jira_issue_id", name="uq_links_ticket_issue"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(Integer, index=True)
    jira_issue_id: Mapped[str] = mapped_column(String(32), index=True)
    jira_key: Mapped[str] = mapped_column(String(64))
    escalation_id: Mapped[str | None] = mapped_column(ForeignKey("escalations.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
