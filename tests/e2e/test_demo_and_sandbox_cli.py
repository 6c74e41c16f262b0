"""The commands a new user runs first: `escalink demo` and `escalink sandbox`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from rich.console import Console
from typer.testing import CliRunner

from escalink.cli import app
from escalink.policy import load_policy
from escalink.sandbox.demo import print_rows

KEYS = {"ticket", "area", "jira_key", "issue_type", "request_type", "priority", "zendesk_status",
        "vendor_calls", "attachments", "phi_refused", "phi_findings", "phi_kept_out_of_jira",
        "jira_reply_played", "reopened", "zendesk_updates_for_reply"}


def test_demo_json_escalates_every_seeded_ticket_within_the_call_budget() -> None:
    result = CliRunner().invoke(app, ["demo", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) >= 12
    assert all(set(r) == KEYS for r in rows)
    assert all(r["zendesk_status"] == "hold" and r["jira_key"].startswith("ESCA-") for r in rows)
    # 5 + 2 per attachment; a draft whose PHI moved to a note adds that note (written before the create).
    assert all(r["vendor_calls"] <= 5 + 2 * r["attachments"] + bool(r["phi_kept_out_of_jira"]) for r in rows)
    assert len({r["jira_key"] for r in rows}) == len(rows)

    console = Console(record=True, width=200)
    print_rows(rows, console)
    assert "within budget (5 + 2 per attachment, 1 more for a PHI note): yes" in console.export_text()
    assert {r["issue_type"] for r in rows} == {"Bug", "[System] Service Request"}
    assert any(r["attachments"] > 0 for r in rows)
    # Drafts where the agent slipped PHI in: refused first, then sent with the PHI moved to a note.
    guarded = [r for r in rows if r["phi_refused"]]
    assert len(guarded) >= 3
    assert all(r["phi_findings"] > 0 and r["phi_kept_out_of_jira"] is True for r in guarded)
    # Some escalations get a Jira reply (a signed webhook): reopened with exactly one Zendesk update.
    replied = [r for r in rows if r["jira_reply_played"]]
    assert len(replied) >= 3 and {r["issue_type"] for r in replied} == {"Bug", "[System] Service Request"}
    assert all(r["reopened"] is True and r["zendesk_updates_for_reply"] == 1 for r in replied)
    assert all(r["reopened"] is False and r["zendesk_updates_for_reply"] == 0 for r in rows if r not in replied)
    # Every row of the guide's escalation table is exercised by at least one seeded ticket.
    policy = load_policy()
    areas = {r["area"] for r in rows}
    for row in policy.areas:
        assert areas & set(row.areas), row


def test_demo_table_is_printed() -> None:
    result = CliRunner().invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    assert "ESCA-1" in result.output and "on hold" in result.output and "reopened" in result.output


def _free_port_block() -> int:
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + 2 < 65535 and all(_free(port + i) for i in range(3)):
            return port
    raise RuntimeError("no free block of 3 ports")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_sandbox_command_serves_escalink_and_both_emulators(tmp_path: Path) -> None:
    port = _free_port_block()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "escalink.cli", "sandbox", "--port", str(port),
         "--database-url", f"sqlite:///{tmp_path / 's.db'}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path,
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 30
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Ctrl-C stops" in line:
                break
        out = "".join(lines)
        assert f"http://127.0.0.1:{port}" in out and f"http://127.0.0.1:{port + 1}" in out, out
        assert f"http://127.0.0.1:{port + 2}" in out and "Webhook secrets" in out
        assert httpx.get(f"http://127.0.0.1:{port}/api/policy").json()["project"]["key"] == "ESCA"
        assert httpx.get(f"http://127.0.0.1:{port + 1}/_sandbox/calls").status_code == 200
        # The emulators refuse requests without the vendors' credentials.
        assert httpx.get(f"http://127.0.0.1:{port + 2}/rest/api/3/myself").status_code == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    assert proc.returncode == 0


def test_demo_reports_failure_when_an_escalation_fails(tmp_path: Path) -> None:
    from escalink.sandbox.demo import escalate_all
    from escalink.sandbox.stack import start_stack

    with start_stack(database_url=f"sqlite:///{tmp_path / 'd.db'}") as stack:
        jira = stack.emulators.jira_state
        original = jira.screen
        jira.screen = lambda type_id: [f for f in original(type_id) if f.name != "Platform"]  # type: ignore[method-assign]
        rows, ok = escalate_all(stack)
    assert ok is False
    bugs = [r for r in rows if r["issue_type"] is None]
    assert bugs and all("Platform" in str(r["error"]) for r in bugs)
