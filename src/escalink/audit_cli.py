"""`escalink audit`: read the append-only audit log (export as JSON lines)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, TextIO

import typer
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from escalink.config import load_settings
from escalink.ports.audit import AuditEntry, AuditLog

audit_app = typer.Typer(help="Read the audit log (who did what, when; never PHI).", no_args_is_help=True)
PAGE = 1000


def parse_instant(value: str) -> datetime:
    """An ISO 8601 date or date-time; without an offset it is taken as UTC."""
    try:
        at = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise typer.BadParameter("use ISO 8601, e.g. 2026-12-01T00:00:00Z or 2026-12-01") from exc
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def iter_entries(log: AuditLog, since: datetime, until: datetime | None) -> Iterator[AuditEntry]:
    """Every entry in the range, page by page in log order (never the whole log in memory)."""
    after: int | None = None
    while True:
        page = log.entries(since, until, limit=PAGE, after_seq=after)
        yield from page
        if len(page) < PAGE:
            return
        after = page[-1].seq


def write_json_lines(entries: Iterator[AuditEntry], out: TextIO) -> int:
    count = 0
    for entry in entries:
        out.write(json.dumps(entry.as_json(), sort_keys=True, ensure_ascii=False) + "\n")
        count += 1
    return count


@contextmanager
def _output(path: Path | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    with path.open("w", encoding="utf-8") as fh:
        yield fh


@audit_app.command("export")
def export(
    since: Annotated[str, typer.Option(help="First instant included, ISO 8601 (2026-12-01T00:00:00Z)")],
    until: Annotated[str | None, typer.Option(help="First instant excluded, ISO 8601")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file (default: stdout)")] = None,
) -> None:
    """Write audit entries as JSON lines, one entry per line, oldest first."""
    from escalink.adapters.db.store import SqlStore, make_engine

    start = parse_instant(since)
    end = parse_instant(until) if until is not None else None
    if end is not None and end <= start:
        raise typer.BadParameter("--until must be after --since", param_hint="--until")
    try:
        url = load_settings().database_url
    except ValidationError as exc:
        typer.echo(f"The settings are invalid ({exc.error_count()} errors); see `escalink serve`.", err=True)
        raise typer.Exit(2) from exc
    engine_url = make_url(url)
    if engine_url.get_backend_name() == "sqlite" and engine_url.database not in (None, "", ":memory:") \
            and not Path(engine_url.database).exists():
        # Opening a missing SQLite file would create an empty one: say which database was meant instead.
        typer.echo(f"No database at {engine_url.database} (ESCALINK_DATABASE_URL={url}).", err=True)
        raise typer.Exit(1)
    store = SqlStore(make_engine(url))
    try:
        with _output(output) as out:
            count = write_json_lines(iter_entries(store, start, end), out)
    except DBAPIError as exc:
        typer.echo(f"Cannot read the audit log in {engine_url.render_as_string(hide_password=True)} "
                   f"({type(exc.orig).__name__}): is the database reachable and up to date (`escalink db upgrade`)?",
                   err=True)
        raise typer.Exit(1) from exc
    finally:
        store.engine.dispose()
    if output is not None:
        typer.echo(f"{count} audit entries written to {output}", err=True)
