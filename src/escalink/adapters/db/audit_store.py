"""SQLAlchemy implementation of the audit log port (append-only: no update or delete here, triggers below)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from escalink.adapters.db.models import AuditRecord
from escalink.ports.audit import AuditEntry

MAX_PAGE = 10_000


def _utc(at: datetime) -> datetime:
    # SQLite keeps a DateTime's wall time and drops its offset: store and compare UTC only, or ranges break.
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _entry(r: AuditRecord) -> AuditEntry:
    return AuditEntry(
        actor=r.actor, action=r.action, outcome=r.outcome, ticket_id=r.ticket_id, issue_id=r.issue_id,
        issue_key=r.issue_key, phi_findings=dict(r.phi_findings or {}), content_hash=r.content_hash,
        detail_code=r.detail_code, at=_utc(r.at), seq=r.id,
    )


class AuditTables:
    """Mixed into SqlStore; expects `_sessions` (a sessionmaker). Implements ports.audit.AuditLog."""

    _sessions: sessionmaker[Session]

    def record(self, entry: AuditEntry) -> None:
        with self._sessions() as s, s.begin():
            s.add(AuditRecord(
                at=_utc(entry.at),
                actor=entry.actor[:320], action=entry.action, outcome=entry.outcome, ticket_id=entry.ticket_id,
                issue_id=entry.issue_id, issue_key=entry.issue_key, phi_findings=dict(entry.phi_findings),
                content_hash=entry.content_hash, detail_code=entry.detail_code,
            ))

    def entries(
        self, since: datetime, until: datetime | None = None, limit: int = 1000, after_seq: int | None = None
    ) -> list[AuditEntry]:
        limit = max(1, min(limit, MAX_PAGE))
        with self._sessions() as s:
            q = select(AuditRecord).where(AuditRecord.at >= _utc(since))
            if until is not None:
                q = q.where(AuditRecord.at < _utc(until))
            if after_seq is not None:
                q = q.where(AuditRecord.id > after_seq)
            rows = s.scalars(q.order_by(AuditRecord.id).limit(limit))
            return [_entry(r) for r in rows]
