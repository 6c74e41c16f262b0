"""SQLAlchemy implementation of the store port."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from escalink.adapters.db.audit_store import AuditTables
from escalink.adapters.db.job_store import JobTables, add_jobs_in
from escalink.adapters.db.models import Escalation, Link, PhiDecision
from escalink.adapters.db.sync_store import SyncTables
from escalink.ports.jobs import NewJob
from escalink.ports.store import EscalationRecord, LinkRecord, PhiDecisionRecord

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            # WAL lets the web threads read while a write is in progress; foreign keys are off by default.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade_to_head(url: str) -> None:
    """Apply every migration; safe to call on each start."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), "head")


def _escalation(row: Escalation) -> EscalationRecord:
    return EscalationRecord(
        id=row.id,
        ticket_id=row.ticket_id,
        agent_email=row.agent_email,
        issue_type=row.issue_type,
        area=row.area,
        request_type=row.request_type,
        priority=row.priority,
        state=row.state,
        jira_issue_id=row.jira_issue_id,
        jira_key=row.jira_key,
        error_code=row.error_code,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlStore(SyncTables, AuditTables, JobTables):
    """Store port over SQLAlchemy; one short transaction per call."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def _session(self) -> Session:
        return self._sessions()

    def start_escalation(
        self,
        *,
        ticket_id: int,
        agent_email: str,
        issue_type: str,
        area: str | None,
        request_type: str | None,
        priority: str | None,
        idempotency_key: str | None = None,
        jobs: Sequence[NewJob] = (),
        escalation_id: str | None = None,
    ) -> str:
        escalation_id = escalation_id or str(uuid.uuid4())
        try:
            self._start(escalation_id, ticket_id=ticket_id, agent_email=agent_email, issue_type=issue_type, area=area,
                        request_type=request_type, priority=priority, idempotency_key=idempotency_key, jobs=jobs)
        except IntegrityError:
            # The same Idempotency-Key sent twice at once: the first insert won; answer with its escalation.
            held = self.escalation_by_key(idempotency_key) if idempotency_key else None
            if held is None:
                raise
            return held.id
        return escalation_id

    def _start(self, escalation_id: str, *, ticket_id: int, agent_email: str, issue_type: str, area: str | None,
               request_type: str | None, priority: str | None, idempotency_key: str | None,
               jobs: Sequence[NewJob]) -> None:
        with self._session() as s, s.begin():
            s.add(
                Escalation(
                    id=escalation_id,
                    ticket_id=ticket_id,
                    agent_email=agent_email,
                    issue_type=issue_type,
                    area=area,
                    request_type=request_type,
                    priority=priority,
                    state="queued" if jobs else "creating",
                    idempotency_key=idempotency_key,
                )
            )
            s.flush()
            add_jobs_in(s, jobs, escalation_id=escalation_id)

    def escalation_by_key(self, idempotency_key: str) -> EscalationRecord | None:
        with self._session() as s:
            row = s.scalar(select(Escalation).where(Escalation.idempotency_key == idempotency_key))
            return _escalation(row) if row else None

    def record_issue_created(
        self, escalation_id: str, *, issue_id: str, key: str, job: tuple[int, str] | None = None,
        follow_up: Sequence[NewJob] = (),
    ) -> None:
        """Store the issue and the link; with `job` (id, worker), that job is completed and its
        follow-ups added in the same transaction (the outbox)."""
        with self._session() as s, s.begin():
            if job is not None:
                # The issue's texts are in Jira now: Escalink keeps no copy.
                self.complete_in(s, job[0], worker=job[1], follow_up=follow_up, drop_payload=True)
            row = s.get_one(Escalation, escalation_id)
            row.jira_issue_id = issue_id
            row.jira_key = key
            row.state = "created"
            exists = s.scalar(
                select(Link).where(Link.ticket_id == row.ticket_id, Link.jira_issue_id == issue_id)
            )
            if exists is None:
                s.add(Link(ticket_id=row.ticket_id, jira_issue_id=issue_id, jira_key=key, escalation_id=row.id))

    def finish_escalation(self, escalation_id: str, *, state: str, error_code: str | None = None) -> None:
        with self._session() as s, s.begin():
            row = s.get_one(Escalation, escalation_id)
            row.state = state
            row.error_code = error_code

    def escalations_for_ticket(self, ticket_id: int) -> list[EscalationRecord]:
        with self._session() as s:
            query = select(Escalation).where(Escalation.ticket_id == ticket_id).order_by(Escalation.created_at)
            rows = s.scalars(query)
            return [_escalation(r) for r in rows]

    def get_escalation(self, escalation_id: str) -> EscalationRecord | None:
        with self._session() as s:
            row = s.get(Escalation, escalation_id)
            return _escalation(row) if row else None

    def links_for_ticket(self, ticket_id: int) -> list[LinkRecord]:
        with self._session() as s:
            rows = s.scalars(select(Link).where(Link.ticket_id == ticket_id).order_by(Link.id)).all()
            return [
                LinkRecord(
                    ticket_id=r.ticket_id,
                    jira_issue_id=r.jira_issue_id,
                    jira_key=r.jira_key,
                    escalation_id=r.escalation_id,
                    created_at=r.created_at,
                )
                for r in rows
            ]

    def record_phi_decision(self, decision: PhiDecisionRecord) -> None:
        with self._session() as s, s.begin():
            s.add(
                PhiDecision(
                    ticket_id=decision.ticket_id,
                    escalation_id=decision.escalation_id,
                    agent_email=decision.agent_email,
                    action=decision.action,
                    reason=decision.reason,
                    findings=list(decision.findings),
                    content_hash=decision.content_hash,
                )
            )

    def phi_decisions(self, ticket_id: int) -> list[PhiDecisionRecord]:
        with self._session() as s:
            rows = s.scalars(select(PhiDecision).where(PhiDecision.ticket_id == ticket_id).order_by(PhiDecision.id))
            return [
                PhiDecisionRecord(r.ticket_id, r.escalation_id, r.agent_email, r.action, r.reason,
                                  tuple(r.findings), r.content_hash)
                for r in rows
            ]
