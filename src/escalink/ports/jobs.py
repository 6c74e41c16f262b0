"""The job port: durable work (the outbox) kept in Escalink's database.

Every vendor write Escalink makes on its own schedule is a job row written in the same
transaction as the state change that needs it, so a crash between "decided" and "done"
loses nothing. A job is claimed with a lease (compare-and-set on its row), so any number of
workers may look at the same table and each job runs once at a time; a job whose worker died
is claimed again when its lease runs out. Payloads never hold PHI: they are the texts that
passed the PHI guard (what goes to Jira), ids and file names, and are dropped once done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

ACTIVE_STATES = ("pending", "running")
NOTIFY_DELIVER = "notify.deliver"  # named here: the store adds these jobs with their receipts
JOB_STATES = ("pending", "running", "done", "dead", "discarded")


@dataclass(frozen=True, slots=True)
class NewJob:
    """A job to add: `order_key` (a ticket) keeps per-ticket order; `dedupe_key` refuses a second
    active copy of the same work (e.g. one inbound-processing job at a time)."""

    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    ticket_id: int | None = None
    escalation_id: str | None = None
    delivery_id: int | None = None
    dedupe_key: str | None = None
    ordered: bool = True  # False: may run beside earlier jobs of the same ticket (singletons, sweeps)


@dataclass(frozen=True, slots=True)
class JobRecord:
    id: int
    kind: str
    state: str
    ticket_id: int | None
    escalation_id: str | None
    delivery_id: int | None
    payload: dict[str, Any]
    attempts: int
    next_try_at: datetime | None
    lease_until: datetime | None
    last_error: str | None
    error_code: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None
    dedupe_key: str | None = None


class JobStore(Protocol):
    """Jobs in the database. Each method is one transaction unless it takes a unit of work."""

    def add_jobs(self, jobs: Sequence[NewJob]) -> list[int]:
        """Insert jobs (pending, due now); a job whose dedupe_key is already active is skipped.
        Returns the ids of the jobs now active for each request, new or existing."""
        ...

    def claim(self, job_id: int, *, now: datetime, lease_until: datetime, worker: str) -> JobRecord | None:
        """Take a due job if it is pending (or running with an expired lease) and no earlier active
        ordered job of its ticket is ahead of it; None when someone else has it or it must wait."""
        ...

    def complete(self, job_id: int, *, worker: str, follow_up: Sequence[NewJob] = ()) -> list[int]:
        """Mark done (payload dropped) and add follow-up jobs in the same transaction."""
        ...

    def retry_later(self, job_id: int, *, worker: str, next_try_at: datetime, error_code: str, error: str) -> None:
        """Back to pending after a failed attempt, not before `next_try_at`."""
        ...

    def bury(self, job_id: int, *, worker: str, error_code: str, error: str) -> None:
        """Dead-letter the job with its error; it stays until retried or discarded."""
        ...

    def get_job(self, job_id: int) -> JobRecord | None: ...

    def jobs(self, *, state: str | None = None, kind: str | None = None, escalation_id: str | None = None,
             delivery_id: int | None = None, limit: int = 100) -> list[JobRecord]: ...

    def due_jobs(self, *, now: datetime, limit: int = 100, ticket_id: int | None = None,
                 due_before: datetime | None = None) -> list[int]:
        """Ids of jobs that could run now (pending and due, or running with an expired lease), oldest first;
        with `due_before`, only pending jobs due since then (overdue: their wake-up was lost)."""
        ...

    def job_counts(self) -> dict[str, int]: ...

    def revive(self, job_ids: Sequence[int], *, now: datetime) -> int:
        """Dead (or discarded) jobs back to pending with a fresh count; returns how many."""
        ...

    def due_now(self, job_ids: Sequence[int], *, now: datetime) -> int:
        """Pending jobs waiting for their back-off go now (someone asked for a retry); returns how many."""
        ...

    def discard(self, job_ids: Sequence[int]) -> int:
        """Dead jobs given up (kept, so an admin may still revive one); returns how many."""
        ...

    def renew_leases(self, job_ids: Sequence[int], *, worker: str, lease_until: datetime) -> int:
        """Extend the leases `worker` still holds on these running jobs (its heartbeat); returns how many."""
        ...

    def release_leases(self, *, worker_prefix: str | None = None, not_before: datetime | None = None) -> int:
        """Running jobs back to pending (an embedded worker restarting: nothing else could run them),
        due at `not_before` (default now)."""
        ...


class Dispatcher(Protocol):
    """Wakes workers for jobs already stored (huey in production; inline in tests)."""

    @property
    def immediate(self) -> bool:
        """True when dispatching runs the job before returning (nothing runs later by itself)."""
        ...

    def dispatch(self, job_ids: Sequence[int], *, at: datetime | None = None) -> None: ...
