"""`escalink demo`: escalate every seeded ticket through Escalink's HTTP API, as the sidebar would."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from escalink.sandbox.recorder import RecordedCall
from escalink.sandbox.stack import DISCOVERY_PATHS, Stack, start_stack

COLUMNS = ("ticket", "area", "jira_key", "issue_type", "request_type", "priority", "zendesk_status",
           "vendor_calls", "attachments")


def is_discovery(call: RecordedCall) -> bool:
    return any(p in call.path for p in DISCOVERY_PATHS)


def escalate_all(stack: Stack) -> tuple[list[dict[str, Any]], bool]:
    """One row per seeded draft; `ok` is False if any escalation failed or was left incomplete."""
    rows: list[dict[str, Any]] = []
    ok = True
    e = stack.emulators
    zendesk = httpx.Client(base_url=e.zendesk_url, auth=(f"{e.zendesk_email}/token", e.zendesk_api_token))
    with httpx.Client(base_url=stack.url, timeout=60) as api, zendesk:
        for draft in e.seed.drafts():
            mark = e.recorder.mark()
            resp = api.post("/api/escalations", json=draft.model_dump(mode="json", exclude_none=True))
            calls = [c for c in e.recorder.since(mark) if not is_discovery(c)]
            body = resp.json()
            success = resp.status_code == 201 and body.get("state") == "done"
            ok = ok and success
            rows.append({
                "ticket": draft.ticket_id,
                "area": draft.area,
                "jira_key": body.get("jira_key") if success else None,
                "issue_type": body.get("issue_type"),
                "request_type": body.get("request_type"),
                "priority": body.get("priority"),
                "zendesk_status": None,
                "vendor_calls": len(calls),
                "attachments": len(draft.attachment_ids),
                **({} if success else {"error": body.get("detail") or body}),
            })
        # Read back from the emulated Zendesk's own API what each ticket looks like now.
        for row in rows:
            row["zendesk_status"] = zendesk.get(f"/api/v2/tickets/{row['ticket']}").json()["ticket"]["status"]
            ok = ok and row["zendesk_status"] == "hold"
    return rows, ok


def run_demo(*, flavor: str = "cloud", database_url: str | None = None) -> tuple[list[dict[str, Any]], bool]:
    with tempfile.TemporaryDirectory(prefix="escalink-demo-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'demo.db'}"
        with start_stack(flavor=flavor, database_url=url) as stack:
            return escalate_all(stack)


def print_rows(rows: list[dict[str, Any]], console: Console | None = None) -> None:
    console = console or Console(width=170)
    table = Table(title="Escalations into the sandbox Jira (project ESCA)")
    for col in COLUMNS:
        table.add_column(col.replace("_", " "), overflow="fold")
    for row in rows:
        table.add_row(*("-" if row.get(c) is None else str(row[c]) for c in COLUMNS))
    console.print(table)
    budget_ok = all(r["vendor_calls"] <= 4 + 2 * r["attachments"] for r in rows)
    held = sum(1 for r in rows if r["zendesk_status"] == "hold")
    console.print(f"{len(rows)} tickets escalated, {held} on hold; vendor calls within budget "
                  f"(4 + 2 per attachment): {'yes' if budget_ok else 'NO'}")
    for row in rows:
        if "error" in row:
            console.print(f"[red]ticket {row['ticket']}: {row['error']}[/red]")
