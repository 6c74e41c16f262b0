"""`escalink demo`: escalate every seeded ticket through Escalink's HTTP API, as the sidebar would.

Drafts where the agent slipped PHI in are first refused, then sent again with "move to internal
note"; the demo then reads both emulators back to show the Jira text clean and the note holding
the details.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from escalink.sandbox.recorder import RecordedCall
from escalink.sandbox.replies import play_jira_reply
from escalink.sandbox.stack import DISCOVERY_PATHS, Stack, start_stack

COLUMNS = ("ticket", "area", "jira_key", "issue_type", "request_type", "priority", "zendesk_status",
           "vendor_calls", "attachments", "phi_refused", "phi_findings", "phi_kept_out_of_jira",
           "jira_reply_played", "reopened", "zendesk_updates_for_reply")
REPLY_EVERY = 3  # every third escalated ticket gets an answer from a Jira engineer
REPLY_TEXT = "Thanks, we reproduced this and a fix is in review. We will update this issue when it ships."


def is_discovery(call: RecordedCall) -> bool:
    return any(p in call.path for p in DISCOVERY_PATHS)


def _vendor_clients(stack: Stack) -> tuple[httpx.Client, httpx.Client, str]:
    e = stack.emulators
    zendesk = httpx.Client(base_url=e.zendesk_url, auth=(f"{e.zendesk_email}/token", e.zendesk_api_token))
    if stack.settings.jira_flavor == "cloud":
        jira = httpx.Client(base_url=e.jira_url, auth=(e.jira_cloud_email, e.jira_cloud_api_token))
        return zendesk, jira, "/rest/api/3"
    jira = httpx.Client(base_url=e.jira_url, headers={"Authorization": f"Bearer {e.jira_dc_pat}"})
    return zendesk, jira, "/rest/api/2"


def escalate_all(stack: Stack) -> tuple[list[dict[str, Any]], bool]:
    """One row per seeded draft; `ok` is False if any escalation failed or was left incomplete."""
    rows: list[dict[str, Any]] = []
    ok = True
    e = stack.emulators
    with httpx.Client(base_url=stack.url, timeout=60) as api:
        for draft in e.seed.drafts():
            payload = draft.model_dump(mode="json", exclude_none=True)
            refused = False
            findings = 0
            if e.seed.phi_values(draft.ticket_id):
                first = api.post("/api/escalations", json=payload)
                refused = first.status_code == 422 and bool(first.json().get("phi_findings"))
                findings = len(first.json().get("phi_findings") or [])
                ok = ok and refused
                payload["phi_action"] = "move_to_internal_note"
            mark = e.recorder.mark()  # the budget counts the attempt that writes
            resp = api.post("/api/escalations", json=payload)
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
                "phi_refused": refused,
                "phi_findings": findings,
                "phi_kept_out_of_jira": None,
                **({} if success else {"error": body.get("detail") or body}),
            })
    zendesk, jira, prefix = _vendor_clients(stack)
    with zendesk, jira:
        # Read back, through the emulators' own vendor APIs, what each ticket and issue look like now.
        for row in rows:
            row["zendesk_status"] = zendesk.get(f"/api/v2/tickets/{row['ticket']}").json()["ticket"]["status"]
            ok = ok and row["zendesk_status"] == "hold"
            values = e.seed.phi_values(row["ticket"])
            if values and row["jira_key"]:
                issue = jira.get(f"{prefix}/issue/{row['jira_key']}").text.lower()
                notes = " ".join(c["body"] for c in zendesk.get(f"/api/v2/tickets/{row['ticket']}/comments")
                                 .json()["comments"] if not c["public"])
                row["phi_kept_out_of_jira"] = all(v.lower() not in issue and v in notes for v in values)
                ok = ok and row["phi_kept_out_of_jira"]
        for i, row in enumerate(rows):
            row.update(jira_reply_played=False, reopened=False, zendesk_updates_for_reply=0)
            if i % REPLY_EVERY or not row["jira_key"]:
                continue
            mark = e.recorder.mark()
            play_jira_reply(stack, row["ticket"], REPLY_TEXT)
            row["jira_reply_played"] = True
            row["zendesk_updates_for_reply"] = sum(
                1 for c in e.recorder.since(mark, vendor="zendesk") if c.method == "PUT"
            )
            after = zendesk.get(f"/api/v2/tickets/{row['ticket']}").json()["ticket"]["status"]
            row["reopened"] = after == "open"
            ok = ok and row["reopened"] and row["zendesk_updates_for_reply"] == 1
    return rows, ok


def run_demo(*, flavor: str = "cloud", database_url: str | None = None) -> tuple[list[dict[str, Any]], bool]:
    with tempfile.TemporaryDirectory(prefix="escalink-demo-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'demo.db'}"
        with start_stack(flavor=flavor, database_url=url) as stack:
            return escalate_all(stack)


TABLE = (("ticket", "ticket"), ("area", "area"), ("jira_key", "Jira key"), ("issue_type", "issue type"),
         ("request_type", "request type"), ("priority", "priority"), ("zendesk_status", "after escalation"),
         ("vendor_calls", "calls"), ("attachments", "files"), ("phi", "PHI guard"), ("reply", "Jira reply"))


def print_rows(rows: list[dict[str, Any]], console: Console | None = None) -> None:
    """The rows as a table narrow enough for a terminal (`--json` has every key separately)."""
    console = console or Console(width=max(Console().width, 150))
    table = Table(title="Escalations into the sandbox Jira (project ESCA)")
    for _, header in TABLE:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row, key) for key, _ in TABLE))
    console.print(table)
    # A draft whose PHI moved to a note adds that note, written before the create.
    budget_ok = all(r["vendor_calls"] <= 5 + 2 * r["attachments"] + bool(r["phi_kept_out_of_jira"]) for r in rows)
    held = sum(1 for r in rows if r["zendesk_status"] == "hold")
    guarded = [r for r in rows if r["phi_refused"]]
    console.print(f"{len(rows)} tickets escalated, {held} on hold; vendor calls within budget "
                  f"(5 + 2 per attachment, 1 more for a PHI note): {'yes' if budget_ok else 'NO'}")
    clean = "yes" if all(r["phi_kept_out_of_jira"] for r in guarded) else "NO"
    console.print(f"{len(guarded)} drafts carried PHI: refused first, then sent with the PHI moved to a Zendesk "
                  f"internal note; Jira text clean: {clean}")
    replied = [r for r in rows if r["jira_reply_played"]]
    reopened = sum(1 for r in replied if r["reopened"])
    one_each = all(r["zendesk_updates_for_reply"] == 1 for r in replied)
    console.print(f"{len(replied)} tickets got a Jira reply (a signed webhook): {reopened} reopened, each with "
                  f"{'one' if one_each else 'NOT one'} Zendesk update carrying an internal note")
    for row in rows:
        if "error" in row:
            console.print(f"[red]ticket {row['ticket']}: {row['error']}[/red]")


def _cell(row: dict[str, Any], key: str) -> str:
    if key == "phi":
        if not row["phi_refused"]:
            return "-"
        leak = "" if row["phi_kept_out_of_jira"] else " (LEAK)"
        return f"{row['phi_findings']} found, refused, moved to note{leak}"
    if key == "reply":
        if not row["jira_reply_played"]:
            return "-"
        return f"{'reopened' if row['reopened'] else 'NOT reopened'}, {row['zendesk_updates_for_reply']} update"
    value = row.get(key)
    if value is None:
        return "-"
    if key == "issue_type":
        return str(value).replace("[System] ", "")
    if key == "request_type":
        return str(value).split(" (")[0]
    return str(value)
