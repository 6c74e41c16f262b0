"""`escalink jobs` (see and handle dead-lettered work) and `escalink worker` (a Redis-queue worker)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from escalink.config import Settings, load_settings
from escalink.ports.jobs import JOB_STATES, JobRecord

jobs_app = typer.Typer(help="Durable jobs: list them, retry or discard dead-lettered ones.", no_args_is_help=True)


def _store(settings: Settings):  # type: ignore[no-untyped-def]
    from escalink.adapters.db.store import SqlStore, make_engine, upgrade_to_head

    upgrade_to_head(settings.database_url)
    return SqlStore(make_engine(settings.database_url))


def _row(j: JobRecord) -> dict[str, object]:
    return {"id": j.id, "kind": j.kind, "state": j.state, "ticket_id": j.ticket_id, "escalation_id": j.escalation_id,
            "attempts": j.attempts, "next_try_at": j.next_try_at.isoformat() if j.next_try_at else None,
            "error_code": j.error_code, "last_error": j.last_error, "updated_at": j.updated_at.isoformat()}


@jobs_app.command("list")
def list_jobs(
    state: Annotated[str, typer.Option(help="pending, running, done, dead or discarded")] = "dead",
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line")] = False,
) -> None:
    """Counts per state, then the jobs in one state (dead-lettered by default)."""
    if state not in JOB_STATES:
        raise typer.BadParameter(", ".join(JOB_STATES), param_hint="--state")
    store = _store(load_settings())
    jobs = store.jobs(state=state, limit=limit)
    if as_json:
        for j in jobs:
            sys.stdout.write(json.dumps(_row(j)) + "\n")
        return
    console = Console()
    console.print("jobs: " + ", ".join(f"{k} {v}" for k, v in store.job_counts().items()))
    table = Table("id", "ticket", "attempts", "next try")
    table.add_column("kind", no_wrap=True)
    table.add_column("error", overflow="fold")
    for j in jobs:
        table.add_row(str(j.id), str(j.ticket_id or ""), str(j.attempts),
                      f"{j.next_try_at:%Y-%m-%d %H:%M:%S}" if j.next_try_at else "", j.kind,
                      f"{j.error_code or ''} {j.last_error or ''}".strip()[:120])
    console.print(table)


def _ids(store, ids: list[int], all_dead: bool) -> list[int]:  # type: ignore[no-untyped-def]
    if all_dead:
        return [j.id for j in store.jobs(state="dead", limit=100000)]
    if not ids:
        raise typer.BadParameter("name job ids, or --all-dead")
    return ids


@jobs_app.command("retry")
def retry(
    ids: Annotated[list[int] | None, typer.Argument(help="Job ids")] = None,
    all_dead: Annotated[bool, typer.Option("--all-dead", help="Every dead-lettered job")] = False,
) -> None:
    """Put dead-lettered jobs back in the queue with a fresh count (a running worker takes them)."""
    store = _store(load_settings())
    n = store.revive(_ids(store, ids or [], all_dead), now=datetime.now(UTC))
    typer.echo(f"{n} job(s) queued again")


@jobs_app.command("discard")
def discard(
    ids: Annotated[list[int] | None, typer.Argument(help="Job ids")] = None,
    all_dead: Annotated[bool, typer.Option("--all-dead", help="Every dead-lettered job")] = False,
) -> None:
    """Give up dead-lettered jobs for good (they stay listed as discarded)."""
    store = _store(load_settings())
    n = store.discard(_ids(store, ids or [], all_dead))
    typer.echo(f"{n} job(s) discarded")


def worker(
    workers: Annotated[int | None, typer.Option(help="Worker threads (default: ESCALINK_JOBS_WORKERS)")] = None,
) -> None:
    """Run jobs from the Redis queue (ESCALINK_JOBS_BACKEND=redis); start as many as you like, anywhere."""
    from escalink.bootstrap import build_container
    from escalink.logs import configure as configure_logging

    settings = load_settings()
    configure_logging(settings.log_level)
    if settings.jobs_backend != "redis":
        typer.echo("`escalink worker` needs ESCALINK_JOBS_BACKEND=redis and ESCALINK_REDIS_URL; with the embedded "
                   "queue the workers run inside `escalink serve`.", err=True)
        raise typer.Exit(2)
    c = build_container(settings)
    consumer = c.queue.consumer(workers or settings.jobs_workers, embedded=False)
    c.sweeper.start()
    try:
        consumer.run()  # until SIGINT/SIGTERM (huey's own handlers: finish the running jobs, then stop)
    finally:
        c.sweeper.stop()
        c.close()
