"""The `escalink` command line."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
import uvicorn
from pydantic import ValidationError

from escalink.audit_cli import audit_app
from escalink.config import Settings, load_settings
from escalink.jobs_cli import jobs_app, worker
from escalink.logs import configure as configure_logging
from escalink.phi.cli import phi_app
from escalink.policy.cli import policy_app
from escalink.zendesk_app_cli import zendesk_app

app = typer.Typer(help="Escalate Zendesk tickets into Jira, safely.", no_args_is_help=True)
app.add_typer(policy_app, name="policy", help="Show or check the escalation policy.")
app.add_typer(phi_app, name="phi", help="Find PHI in text, and measure the detector on a labelled corpus.")
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit", help="Export the audit log as JSON lines.")
app.add_typer(jobs_app, name="jobs", help="Durable jobs: list, retry or discard dead-lettered ones.")
app.command("worker")(worker)
app.add_typer(zendesk_app, name="zendesk-app")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
) -> None:
    """Run Escalink against the Zendesk and Jira configured in the environment."""
    from escalink.bootstrap import build_container
    from escalink.web.app import create_app

    settings = _settings()
    configure_logging(settings.log_level)
    missing = [n for n in ("zendesk_url", "jira_url") if not getattr(settings, n)]
    if missing:
        typer.echo(f"Set {', '.join('ESCALINK_' + m.upper() for m in missing)} (see .env.example), "
                   "or try `escalink sandbox`.", err=True)
        raise typer.Exit(2)
    uvicorn.run(create_app(build_container(settings)), host=host, port=port, log_level="warning")


def _settings() -> Settings:
    """Settings from the environment, or a readable list of what is wrong with them."""
    try:
        return load_settings()
    except ValidationError as exc:
        for err in exc.errors():
            name = "ESCALINK_" + "_".join(str(p) for p in err["loc"]).upper()
            typer.echo(f"{name}: {err['msg']}", err=True)
        raise typer.Exit(2) from exc


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (also done on every start)."""
    from escalink.adapters.db.store import upgrade_to_head

    upgrade_to_head(_settings().database_url)
    typer.echo("database is up to date")


@app.command()
def sandbox(
    port: Annotated[int, typer.Option(help="Escalink on P, emulated Zendesk on P+1, emulated Jira on P+2")] = 8700,
    flavor: Annotated[str, typer.Option(help="cloud or datacenter")] = "cloud",
    database_url: Annotated[str | None, typer.Option(help="Defaults to a file under ./var/")] = None,
) -> None:
    """Run Escalink against built-in emulated Zendesk and Jira, seeded with tickets; until stopped."""
    from escalink.sandbox.stack import run_forever

    configure_logging("WARNING")
    if flavor not in ("cloud", "datacenter"):
        raise typer.BadParameter("cloud or datacenter", param_hint="--flavor")
    try:
        run_forever(port=port, flavor=flavor, database_url=database_url)
    except OSError as exc:
        typer.echo(f"Cannot listen on 127.0.0.1:{port}-{port + 2} ({exc.strerror}); pick another --port.", err=True)
        raise typer.Exit(2) from exc


@app.command()
def demo(
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as a JSON list")] = False,
    flavor: Annotated[str, typer.Option(help="cloud or datacenter")] = "cloud",
) -> None:
    """Escalate every seeded sandbox ticket through the HTTP API and print what happened."""
    from escalink.sandbox.demo import print_rows, run_demo

    configure_logging("WARNING")
    rows, ok = run_demo(flavor=flavor)
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    else:
        print_rows(rows)
    if not ok:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
