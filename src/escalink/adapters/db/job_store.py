"""SQLAlchemy implementation of the job port (the outbox), plus sync cursors and noted comments.

Claiming is one UPDATE guarded by its WHERE clause (compare-and-set), which both SQLite and
PostgreSQL apply atomically: two workers asking for the same job get one row changed between
them, never two.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, sessionmaker

from escalink.adapters.db.models import Job, NotedComment, SyncCursor
from escalink.ports.jobs import ACTIVE_STATES, JobRecord, NewJob


def _job(r: Job) -> JobRecord:
    return JobRecord(
        id=r.id, kind=r.kind, state=r.state, ticket_id=r.ticket_id, escalation_id=r.escalation_id,
        delivery_id=r.delivery_id, payload=dict(r.payload or {}), attempts=r.attempts, next_try_at=r.next_try_at,
        lease_until=r.lease_until, last_error=r.last_error, error_code=r.error_code, created_at=r.created_at,
        updated_at=r.updated_at, finished_at=r.finished_at, dedupe_key=r.dedupe_key,
    )


def _now() -> datetime:
    return datetime.now(UTC)


def add_jobs_in(s: Session, jobs: Sequence[NewJob], **defaults: Any) -> list[int]:
    """Insert jobs inside an open transaction; a dedupe_key already held keeps the existing job.

    `defaults` fill fields the caller learns only inside the transaction (an escalation's id, a
    delivery's id)."""
    ids: list[int] = []
    for new in jobs:
        fields = {"escalation_id": new.escalation_id, "delivery_id": new.delivery_id, **defaults}
        row = Job(kind=new.kind, state="pending", ticket_id=new.ticket_id, ordered=new.ordered,
                  dedupe_key=new.dedupe_key, payload=new.payload, attempts=0, next_try_at=_now(), **fields)
        if new.dedupe_key is None:
            s.add(row)
            s.flush()
            ids.append(row.id)
            continue
        try:
            with s.begin_nested():
                s.add(row)
        except IntegrityError:
            held = s.scalar(select(Job.id).where(Job.dedupe_key == new.dedupe_key))
            if held is not None:
                ids.append(held)
            continue
        ids.append(row.id)
    return ids


def _due(now: datetime) -> Any:
    return or_(
        and_(Job.state == "pending", or_(Job.next_try_at.is_(None), Job.next_try_at <= now)),
        and_(Job.state == "running", Job.lease_until < now),
    )


class JobTables:
    """Mixed into SqlStore; expects `_sessions` (a sessionmaker)."""

    _sessions: sessionmaker[Session]

    def add_jobs(self, jobs: Sequence[NewJob]) -> list[int]:
        with self._sessions() as s, s.begin():
            return add_jobs_in(s, jobs)

    def claim(self, job_id: int, *, now: datetime, lease_until: datetime, worker: str) -> JobRecord | None:
        earlier = aliased(Job)
        ahead = exists().where(
            earlier.ticket_id == Job.ticket_id, earlier.ordered.is_(True), earlier.id < Job.id,
            earlier.state.in_(ACTIVE_STATES),
        )
        stmt = (
            update(Job)
            .where(Job.id == job_id, _due(now), or_(Job.ordered.is_(False), Job.ticket_id.is_(None), ~ahead))
            .values(state="running", lease_until=lease_until, leased_by=worker, attempts=Job.attempts + 1,
                    updated_at=now)
            .execution_options(synchronize_session=False)
        )
        with self._sessions() as s, s.begin():
            if s.execute(stmt).rowcount != 1:  # type: ignore[attr-defined]
                return None
            return _job(s.get_one(Job, job_id))

    def _finish(self, s: Session, job_id: int, worker: str, **values: Any) -> bool:
        stmt = (update(Job).where(Job.id == job_id, Job.state == "running", Job.leased_by == worker)
                .values(updated_at=_now(), **values).execution_options(synchronize_session=False))
        return bool(s.execute(stmt).rowcount == 1)  # type: ignore[attr-defined]

    def complete(self, job_id: int, *, worker: str, follow_up: Sequence[NewJob] = ()) -> list[int]:
        with self._sessions() as s, s.begin():
            return self.complete_in(s, job_id, worker=worker, follow_up=follow_up)

    def complete_in(self, s: Session, job_id: int, *, worker: str, follow_up: Sequence[NewJob] = (),
                    drop_payload: bool = False) -> list[int]:
        extra: dict[str, Any] = {"payload": None} if drop_payload else {}
        self._finish(s, job_id, worker, state="done", dedupe_key=None, finished_at=_now(), lease_until=None,
                     error_code=None, last_error=None, **extra)
        return add_jobs_in(s, follow_up) if follow_up else []

    def retry_later(self, job_id: int, *, worker: str, next_try_at: datetime, error_code: str, error: str) -> None:
        with self._sessions() as s, s.begin():
            self._finish(s, job_id, worker, state="pending", next_try_at=next_try_at, lease_until=None,
                         error_code=error_code[:64], last_error=error[:500])

    def bury(self, job_id: int, *, worker: str, error_code: str, error: str) -> None:
        with self._sessions() as s, s.begin():
            self._finish(s, job_id, worker, state="dead", dedupe_key=None, lease_until=None, finished_at=_now(),
                         error_code=error_code[:64], last_error=error[:500])

    def get_job(self, job_id: int) -> JobRecord | None:
        with self._sessions() as s:
            row = s.get(Job, job_id)
            return _job(row) if row else None

    def jobs(self, *, state: str | None = None, kind: str | None = None, escalation_id: str | None = None,
             delivery_id: int | None = None, limit: int = 100) -> list[JobRecord]:
        query = select(Job)
        for column, value in ((Job.state, state), (Job.kind, kind), (Job.escalation_id, escalation_id),
                              (Job.delivery_id, delivery_id)):
            if value is not None:
                query = query.where(column == value)
        with self._sessions() as s:
            return [_job(r) for r in s.scalars(query.order_by(Job.id).limit(limit))]

    def due_jobs(self, *, now: datetime, limit: int = 100, ticket_id: int | None = None,
                 due_before: datetime | None = None) -> list[int]:
        query = select(Job.id).where(_due(now))
        if due_before is not None:
            # Overdue only: due for a while yet not taken (its wake-up was lost), or its lease ran out.
            query = select(Job.id).where(or_(
                and_(Job.state == "pending", or_(Job.next_try_at.is_(None), Job.next_try_at <= due_before)),
                and_(Job.state == "running", Job.lease_until < now),
            ))
        if ticket_id is not None:
            query = query.where(Job.ticket_id == ticket_id)
        with self._sessions() as s:
            return list(s.scalars(query.order_by(Job.id).limit(limit)))

    def job_counts(self) -> dict[str, int]:
        with self._sessions() as s:
            rows = s.execute(select(Job.state, func.count()).group_by(Job.state)).all()
        counts = {"pending": 0, "running": 0, "done": 0, "dead": 0, "discarded": 0}
        counts.update({state: n for state, n in rows})
        return counts

    def revive(self, job_ids: Sequence[int], *, now: datetime) -> int:
        stmt = (update(Job).where(Job.id.in_(list(job_ids)), Job.state.in_(("dead", "discarded")))
                .values(state="pending", attempts=0, next_try_at=now, finished_at=None, updated_at=now)
                .execution_options(synchronize_session=False))
        with self._sessions() as s, s.begin():
            return int(s.execute(stmt).rowcount)  # type: ignore[attr-defined]

    def due_now(self, job_ids: Sequence[int], *, now: datetime) -> int:
        """Pending jobs waiting for their back-off go now (someone asked for a retry)."""
        stmt = (update(Job).where(Job.id.in_(list(job_ids)), Job.state == "pending")
                .values(next_try_at=now, updated_at=now).execution_options(synchronize_session=False))
        with self._sessions() as s, s.begin():
            return int(s.execute(stmt).rowcount)  # type: ignore[attr-defined]

    def discard(self, job_ids: Sequence[int]) -> int:
        stmt = (update(Job).where(Job.id.in_(list(job_ids)), Job.state == "dead")
                .values(state="discarded", updated_at=_now())
                .execution_options(synchronize_session=False))
        with self._sessions() as s, s.begin():
            return int(s.execute(stmt).rowcount)  # type: ignore[attr-defined]

    def renew_leases(self, job_ids: Sequence[int], *, worker: str, lease_until: datetime) -> int:
        if not job_ids:
            return 0
        stmt = (update(Job).where(Job.id.in_(list(job_ids)), Job.state == "running", Job.leased_by == worker)
                .values(lease_until=lease_until).execution_options(synchronize_session=False))
        with self._sessions() as s, s.begin():
            return int(s.execute(stmt).rowcount)  # type: ignore[attr-defined]

    def release_leases(self, *, worker_prefix: str | None = None, not_before: datetime | None = None) -> int:
        query = update(Job).where(Job.state == "running")
        if worker_prefix is not None:
            query = query.where(Job.leased_by.startswith(worker_prefix))
        stmt = query.values(state="pending", lease_until=None, next_try_at=not_before or _now()).execution_options(
            synchronize_session=False)
        with self._sessions() as s, s.begin():
            return int(s.execute(stmt).rowcount)  # type: ignore[attr-defined]

    # --- cursors and noted comments -------------------------------------------------------------

    def get_cursor(self, name: str) -> datetime | None:
        with self._sessions() as s:
            row = s.get(SyncCursor, name)
            return row.value if row else None

    def set_cursor(self, name: str, value: datetime) -> None:
        with self._sessions() as s, s.begin():
            row = s.get(SyncCursor, name)
            if row is None:
                s.add(SyncCursor(name=name, value=value))
            else:
                row.value = value

    def noted_comments(self, ticket_id: int, keys: Sequence[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
        """Which (issue id, comment id, kind) of `keys` were already noted on the ticket."""
        if not keys:
            return set()
        issue_ids = sorted({k[0] for k in keys})
        with self._sessions() as s:
            rows = s.execute(select(NotedComment.jira_issue_id, NotedComment.comment_id, NotedComment.kind).where(
                NotedComment.ticket_id == ticket_id, NotedComment.jira_issue_id.in_(issue_ids))).all()
        have = {(a, b, c) for a, b, c in rows}
        return {k for k in keys if k in have}

    def mark_noted(self, ticket_id: int, keys: Sequence[tuple[str, str, str]]) -> None:
        with self._sessions() as s, s.begin():
            for issue_id, comment_id, kind in keys:
                try:
                    with s.begin_nested():
                        s.add(NotedComment(ticket_id=ticket_id, jira_issue_id=issue_id, comment_id=comment_id,
                                           kind=kind))
                except IntegrityError:
                    continue  # noted already: the constraint is the guard
