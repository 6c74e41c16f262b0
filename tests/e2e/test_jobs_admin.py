"""Dead letters seen and handled: the admin API and `escalink jobs`, over the sandbox."""

from __future__ import annotations

import json

import httpx
import pytest
from typer.testing import CliRunner

from escalink.cli import app
from escalink.sandbox.faults import FaultRule
from escalink.sandbox.stack import Stack
from tests.e2e.conftest import draft_json


def _dead_remote_link(stack: Stack, api: httpx.Client) -> dict[str, object]:
    # Jira refusing the link (400) cannot change by retrying: dead-lettered at once, the rest goes on.
    stack.emulators.faults.set([FaultRule(vendor="jira", path="*/remotelink", kind="400")])
    body = api.post("/api/escalations", json=draft_json(stack, 104)).json()
    stack.emulators.faults.clear()
    assert body["state"] == "incomplete", body
    return body


def test_admin_api_lists_retries_and_discards_dead_letters(stack: Stack, api: httpx.Client) -> None:
    body = _dead_remote_link(stack, api)
    page = api.get("/api/admin/jobs").json()
    [dead] = page["jobs"]
    assert dead["kind"] == "escalation.remote_link" and dead["escalation_id"] == body["escalation_id"]
    assert dead["error_code"] == "VendorRejected" and dead["attempts"] == 1
    assert page["counts"]["dead"] == 1 and page["counts"]["done"] == 2 and "pending" in page["inbound"]

    assert api.post(f"/api/admin/jobs/{dead['id']}/discard").json()["state"] == "discarded"
    retried = api.post(f"/api/admin/jobs/{dead['id']}/retry")
    assert retried.status_code == 200 and retried.json()["state"] == "done"
    assert api.get(f"/api/escalations/{body['escalation_id']}").json()["state"] == "done"
    again = api.post(f"/api/admin/jobs/{dead['id']}/retry")
    assert again.status_code == 409 and again.headers["content-type"].startswith("application/problem+json")
    assert api.post("/api/admin/jobs/999999/discard").status_code == 404
    assert api.get("/api/admin/jobs", params={"state": "lost"}).status_code == 422


@pytest.mark.parametrize("flavor", ["cloud"], indirect=True)
def test_jobs_cli_lists_retries_and_discards(stack: Stack, api: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    _dead_remote_link(stack, api)
    monkeypatch.setenv("ESCALINK_DATABASE_URL", stack.settings.database_url)
    runner = CliRunner()
    listed = runner.invoke(app, ["jobs", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    [row] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert row["kind"] == "escalation.remote_link" and row["state"] == "dead"
    table = runner.invoke(app, ["jobs", "list"])
    assert "dead 1" in table.stdout and "escalation.remote_link" in table.stdout
    assert runner.invoke(app, ["jobs", "retry", str(row["id"])]).stdout.strip() == "1 job(s) queued again"
    assert stack.container.store.get_job(row["id"]).state == "pending"  # type: ignore[union-attr]
    assert runner.invoke(app, ["jobs", "discard", "--all-dead"]).stdout.strip() == "0 job(s) discarded"
    bad = runner.invoke(app, ["jobs", "list", "--state", "lost"])
    assert bad.exit_code == 2 and "pending" in bad.output
