"""The audit log over the sandbox: actions leave entries with the right ids, PHI verdicts as counts only."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from escalink.adapters.db.store import SqlStore, make_engine, upgrade_to_head
from escalink.cli import app
from escalink.ports.audit import AuditEntry
from escalink.sandbox.seed import load_seed
from escalink.sandbox.stack import Stack
from tests.e2e.conftest import draft_json

CLEAN_BUG = 101
OTHER_TICKET = 118
PHI_TICKETS = (126, 127, 128)
T0 = datetime(2026, 12, 1, tzinfo=UTC)


def _export(database_url: str, *args: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(app, ["audit", "export", *args], env={"ESCALINK_DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.mark.parametrize("flavor", ["cloud"])
def test_every_action_is_audited_with_its_ids_and_never_a_phi_value(
    stack: Stack, api: httpx.Client, tmp_path: Path
) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    draft = draft_json(stack, CLEAN_BUG)
    created = api.post("/api/escalations", json=draft)
    assert created.status_code == 201, created.text
    issue = created.json()
    refusals: dict[int, dict[str, Any]] = {}
    for ticket in PHI_TICKETS:
        resp = api.post("/api/escalations", json=draft_json(stack, ticket))
        assert resp.status_code == 422, resp.text
        refusals[ticket] = resp.json()
    sent = api.post(f"/api/tickets/{CLEAN_BUG}/notify", json={"agent_email": draft["agent_email"],
                                                             "comment": "Any news on this one?"})
    assert sent.status_code == 201, sent.text
    assert api.post(f"/api/tickets/{OTHER_TICKET}/links", json={"issue": issue["jira_key"]}).status_code == 201
    assert api.delete(f"/api/tickets/{OTHER_TICKET}/links/{issue['jira_key']}").status_code == 204

    page = api.get("/api/audit", params={"since": since.isoformat()})
    assert page.status_code == 200, page.text
    entries = page.json()["entries"]
    assert page.json()["next_after"] is None

    def only(action: str) -> list[dict[str, Any]]:
        return [e for e in entries if e["action"] == action]

    [esc] = only("escalation.created")
    assert (esc["actor"], esc["outcome"], esc["ticket_id"], esc["issue_id"], esc["issue_key"]) == (
        draft["agent_email"], "ok", CLEAN_BUG, issue["jira_issue_id"], issue["jira_key"])
    assert esc["detail_code"] == "created" and len(esc["content_hash"]) == 64
    [finished] = only("escalation.done")  # when its last step (the ticket update) ended
    assert (finished["ticket_id"], finished["issue_key"], finished["actor"]) == (
        CLEAN_BUG, issue["jira_key"], draft["agent_email"])

    refused = only("escalation.refused_phi")
    assert sorted(e["ticket_id"] for e in refused) == sorted(PHI_TICKETS)
    for e in refused:
        answer = refusals[e["ticket_id"]]
        assert e["outcome"] == "refused" and e["issue_id"] is None and len(e["content_hash"]) == 64
        assert e["phi_findings"] == dict(Counter(f["label"] for f in answer["phi_findings"]))

    [note] = only("notify.sent")
    assert (note["ticket_id"], note["issue_id"], note["issue_key"]) == (
        CLEAN_BUG, issue["jira_issue_id"], issue["jira_key"])
    assert note["detail_code"] == f"ref={sent.json()['ref']}"
    assert [(e["ticket_id"], e["issue_key"]) for e in only("link.added") + only("link.removed")] == [
        (OTHER_TICKET, issue["jira_key"])] * 2

    out = tmp_path / "audit.jsonl"
    result = CliRunner().invoke(app, ["audit", "export", "--since", since.isoformat(), "-o", str(out)],
                                env={"ESCALINK_DATABASE_URL": stack.container.settings.database_url})
    assert result.exit_code == 0, result.output
    exported = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [e["seq"] for e in exported] == [e["seq"] for e in entries]
    text = out.read_text(encoding="utf-8").lower()
    values = load_seed().all_phi_values()
    assert len(values) >= 8
    for value in values:
        assert value.lower() not in text, value


def test_export_writes_json_lines_filtered_by_since_and_until(database_url: str, tmp_path: Path) -> None:
    upgrade_to_head(database_url)
    store = SqlStore(make_engine(database_url))
    try:
        for hour in range(4):
            store.record(AuditEntry(actor="escalink", action="ticket.noted", ticket_id=hour,
                                    at=T0 + timedelta(hours=hour)))
    finally:
        store.engine.dispose()
    rows = _export(database_url, "--since", "2026-12-01T01:00:00Z")
    assert [r["ticket_id"] for r in rows] == [1, 2, 3]
    assert rows[0]["at"] == "2026-12-01T01:00:00Z"
    assert set(rows[0]) == {"seq", "at", "actor", "action", "outcome", "ticket_id", "issue_id", "issue_key",
                            "phi_findings", "content_hash", "detail_code"}
    # An offset is honoured: 03:30+02:00 is 01:30 UTC.
    assert [r["ticket_id"] for r in _export(database_url, "--since", "2026-12-01T03:30:00+02:00",
                                            "--until", "2026-12-01T03:00:00")] == [2]
    assert _export(database_url, "--since", "2026-12-02") == []

    bad = CliRunner().invoke(app, ["audit", "export", "--since", "yesterday"],
                             env={"ESCALINK_DATABASE_URL": database_url})
    assert bad.exit_code == 2 and "ISO 8601" in bad.output
