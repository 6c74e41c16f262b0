"""Jobs API for administrators: what is queued, what is dead-lettered, and retry or discard it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from escalink.bootstrap import Container
from escalink.domain.draft import Problem
from escalink.domain.errors import Conflict, NotFound
from escalink.ports.jobs import JobRecord
from escalink.web.deps import container, require_token
from escalink.web.problems import PROBLEM_JSON, ProblemDetails

router = APIRouter(prefix="/api/admin", dependencies=[Depends(require_token)], tags=["jobs"])
PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"model": ProblemDetails, "content": {PROBLEM_JSON: {}}} for code in (401, 404, 409, 422)
}


class JobOut(BaseModel):
    """A job: its kind, ticket and escalation, where it stands and its last error (never a text it carries)."""

    id: int
    kind: str = Field(examples=["escalation.create"])
    state: str = Field(description="pending, running, done, dead (dead-lettered) or discarded")
    ticket_id: int | None
    escalation_id: str | None
    delivery_id: int | None
    attempts: int
    next_try_at: datetime | None
    error_code: str | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime


class JobsOut(BaseModel):
    counts: dict[str, int] = Field(description="Jobs per state")
    inbound: dict[str, int] = Field(description="Stored webhook deliveries per status")
    jobs: list[JobOut]


def job_out(j: JobRecord) -> JobOut:
    return JobOut(id=j.id, kind=j.kind, state=j.state, ticket_id=j.ticket_id, escalation_id=j.escalation_id,
                  delivery_id=j.delivery_id, attempts=j.attempts, next_try_at=j.next_try_at, error_code=j.error_code,
                  last_error=j.last_error, created_at=j.created_at, updated_at=j.updated_at)


@router.get("/jobs", response_model=JobsOut, responses=PROBLEMS, summary="Counts, and jobs in one state")
def list_jobs(
    state: Literal["pending", "running", "done", "dead", "discarded"] = "dead",
    kind: str | None = Query(None, max_length=64),
    limit: int = Query(100, ge=1, le=1000),
    c: Container = Depends(container),
) -> JobsOut:
    inbound = {"pending": 0, "processed": 0, "ignored": 0, "failed": 0, **c.store.inbound_counts()}
    return JobsOut(counts=c.store.job_counts(), inbound=inbound,
                   jobs=[job_out(j) for j in c.store.jobs(state=state, kind=kind, limit=limit)])


def _dead(c: Container, job_id: int) -> JobRecord:
    job = c.store.get_job(job_id)
    if job is None:
        raise NotFound(f"No job {job_id}.", problems=[Problem("job_id", "not_found", "No such job.")])
    if job.state not in ("dead", "discarded"):
        raise Conflict(f"Job {job_id} is {job.state}; only dead-lettered jobs are retried or discarded.",
                       problems=[Problem("job_id", job.state, f"Job is {job.state}.")])
    return job


@router.post("/jobs/{job_id}/retry", response_model=JobOut, responses=PROBLEMS,
             summary="Put a dead-lettered job back in the queue with a fresh count")
def retry_job(job_id: int = Path(gt=0), c: Container = Depends(container)) -> JobOut:
    _dead(c, job_id)
    c.store.revive([job_id], now=datetime.now(UTC))
    c.queue.dispatch([job_id])
    job = c.store.get_job(job_id)
    assert job is not None
    return job_out(job)


@router.post("/jobs/{job_id}/discard", response_model=JobOut, responses=PROBLEMS,
             summary="Give up a dead-lettered job for good (kept for the record)")
def discard_job(job_id: int = Path(gt=0), c: Container = Depends(container)) -> JobOut:
    job = _dead(c, job_id)
    if job.state == "dead":
        c.store.discard([job_id])
    found = c.store.get_job(job_id)
    assert found is not None
    return job_out(found)
