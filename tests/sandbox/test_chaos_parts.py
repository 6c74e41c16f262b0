"""Parts of the chaos run that need no Escalink process: the emulators' state and seeding routes,
the emulator process, the traffic it sends, and the checker's comparison on hand-made states."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from escalink.domain.draft import EscalationDraft
from escalink.sandbox import chaos_cases
from escalink.sandbox.chaos_check import Expected, compare, report_lines
from escalink.sandbox.emulators import EmulatorInfo, escalink_env
from escalink.sandbox.faults import FaultPlan, FaultRule
from escalink.sandbox.jira_app import create_jira_app
from escalink.sandbox.jira_state import BUG, JiraIssue, JiraState
from escalink.sandbox.recorder import CallRecorder
from escalink.sandbox.seed import Seed
from escalink.sandbox.stack import start_stack
from escalink.sandbox.zendesk_state import ZendeskState
from escalink.services.escalate import escalation_label

ENGINEER = {"account_id": "712020:aa11bb22cc33dd44ee55ff66", "name": "rvance", "display_name": "Riley Vance",
            "email": "riley.vance@example.com"}
EID_A = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
EID_B = "1b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e"
EID_C = "2c3d4e5f-6a7b-4c8d-8e9f-1a2b3c4d5e6f"


def _ticket_spec(requester: int = 2001, author: int = 2001) -> dict[str, Any]:
    return {"subject": "Sync stops after the update", "requester_id": requester, "tags": ["chaos"],
            "comments": [{"author_id": author, "body": "Steps stopped syncing.", "public": True,
                          "attachments": [{"file_name": "app.log", "text": "INFO sync stopped\n"}]},
                         {"author_id": 901, "body": "Checked the device list.", "public": False}]}


def _issue(jstate: JiraState, summary: str, labels: list[str]) -> JiraIssue:
    return jstate.create_issue(BUG, {"summary": summary, "labels": labels}, jstate.service_user, None)


# --- state and seeding routes -------------------------------------------------------------------


def test_seeded_tickets_are_real_tickets_with_their_attachments(zendesk: TestClient) -> None:
    resp = zendesk.post("/_sandbox/tickets", json={"tickets": [_ticket_spec(), _ticket_spec(2002, 2002)]})
    assert resp.status_code == 201
    created = resp.json()["tickets"]
    assert len(created) == 2 and created[0]["id"] != created[1]["id"]
    first = created[0]
    comments = zendesk.get(f"/api/v2/tickets/{first['id']}/comments").json()["comments"]
    assert [a["id"] for a in comments[0]["attachments"]] == first["attachment_ids"]
    assert zendesk.get(comments[0]["attachments"][0]["content_url"]).content == b"INFO sync stopped\n"

    state = zendesk.get("/_sandbox/state", params={"ids": f"{first['id']},999999"}).json()
    assert [t["id"] for t in state["tickets"]] == [first["id"]]
    ticket = state["tickets"][0]
    assert ticket["status"] == "open" and ticket["tags"] == ["chaos"]
    assert [(c["public"], c["body"]) for c in ticket["comments"]] == [
        (True, "Steps stopped syncing."), (False, "Checked the device list.")]


def test_seeding_is_all_or_nothing_and_state_refuses_bad_ids(zendesk: TestClient, zstate: ZendeskState) -> None:
    before = len(zstate.tickets)
    resp = zendesk.post("/_sandbox/tickets", json={"tickets": [_ticket_spec(), _ticket_spec(requester=424242)]})
    assert resp.status_code == 422
    assert len(zstate.tickets) == before
    assert zendesk.get("/_sandbox/state", params={"ids": "12,abc"}).status_code == 400
    assert len(zendesk.get("/_sandbox/state").json()["tickets"]) == before


def test_comment_as_a_person_shows_them_as_author(jira_cloud: TestClient, jstate: JiraState) -> None:
    issue = _issue(jstate, "chaos case 7: x", ["escalink", "escalink-0a1b2c3d4e5f"])
    resp = jira_cloud.post(f"/_sandbox/issues/{issue.key}/comments", json={"author": ENGINEER, "body": "Fixed now."})
    assert resp.status_code == 201
    assert resp.json()["issue_key"] == issue.key
    listed = jira_cloud.get(f"/rest/api/3/issue/{issue.key}/comment").json()["comments"]
    assert listed[0]["author"]["accountId"] == ENGINEER["account_id"]
    assert listed[0]["author"]["accountId"] != jstate.service_user.account_id
    assert listed[0]["id"] == resp.json()["id"]

    state = jira_cloud.get("/_sandbox/state").json()["issues"]
    assert state[0]["labels"] == ["escalink", "escalink-0a1b2c3d4e5f"]
    assert state[0]["comments"][0]["body"] == "Fixed now."
    assert state[0]["comments"][0]["author_account_id"] == ENGINEER["account_id"]
    assert "comments" not in jira_cloud.get("/_sandbox/state", params={"comments": "false"}).json()["issues"][0]
    missing = jira_cloud.post("/_sandbox/issues/ESCA-999/comments", json={"author": ENGINEER, "body": "x"})
    assert missing.status_code == 404


def test_sandbox_routes_are_never_faulted(jstate: JiraState) -> None:
    gate = create_jira_app(jstate, CallRecorder())
    gate.faults = FaultPlan([FaultRule(kind="503")])
    client = TestClient(gate)
    client.auth = (jstate.cloud_email, jstate.cloud_api_token)
    assert client.get("/rest/api/3/myself").status_code == 503
    assert client.get("/_sandbox/state").status_code == 200


def test_emulator_process_announces_itself_and_stops_on_sigterm(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "escalink.sandbox.emulators"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=tmp_path)
    try:
        assert proc.stdout is not None
        info = EmulatorInfo.from_line(proc.stdout.readline().decode())
        assert httpx.get(f"{info.jira_url}/_sandbox/state", timeout=5).json() == {"issues": []}
        me = httpx.get(f"{info.zendesk_url}/api/v2/users/me", auth=(f"{info.zendesk_email}/token",
                                                                    info.zendesk_api_token), timeout=5)
        assert me.status_code == 200
        env = escalink_env(info)
        assert env["ESCALINK_JIRA_URL"] == info.jira_url and env["ESCALINK_JIRA_FLAVOR"] == "cloud"
        assert env["ESCALINK_JIRA_WEBHOOK_SECRET"] == info.jira_webhook_secret
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


# --- what the run sends -------------------------------------------------------------------------


def test_reply_plan_spreads_evenly_with_silent_and_replayed_deliveries() -> None:
    plan = chaos_cases.reply_plan(2000, 500, random.Random(3))
    assert [p.number for p in plan] == list(range(2000))
    assert set(Counter(p.ticket_index for p in plan).values()) == {4}
    assert Counter(p.deliveries for p in plan) == {1: 1880, 0: 60, 2: 60}
    assert plan == chaos_cases.reply_plan(2000, 500, random.Random(3))
    assert len({chaos_cases.reply_text(p.number) for p in plan}) == 2000


def test_fault_rules_are_a_valid_plan_that_covers_every_write() -> None:
    rules, seed = FaultPlan.parse({"seed": 5, "rules": chaos_cases.fault_rules(hang_seconds=3.0)})
    assert seed == 5
    assert {r.kind for r in rules} == {"503", "429", "drop", "hang"}
    assert {r.retry_after for r in rules if r.kind == "429"} == {1, 2}
    plan = FaultPlan(rules)
    for vendor, method, path in [("jira-cloud", "POST", "/rest/api/3/issue"),
                                 ("jira-cloud", "POST", "/rest/api/3/issue/10001/attachments"),
                                 ("jira-cloud", "POST", "/rest/api/3/issue/10001/comment"),
                                 ("zendesk", "PUT", "/api/v2/tickets/5001"),
                                 ("zendesk", "GET", "/attachments/token/abc/")]:
        assert any(r.matches(vendor, method, path) for r in rules)
        fired = sum(plan.decide(vendor, method, path) is not None for _ in range(4000))
        assert 300 < fired < 560  # about 11% of the calls
    assert not any(r.matches("jira-cloud", "GET", "/rest/api/3/issue/createmeta/ESCA/issuetypes") for r in rules)


def test_every_chaos_draft_passes_escalinks_checks(tmp_path: Path, seed: Seed) -> None:
    rng = random.Random(9)
    cases = chaos_cases.tickets(8, seed, rng)
    with start_stack(database_url=f"sqlite:///{tmp_path / 'e.db'}") as stack:
        created = httpx.post(f"{stack.emulators.zendesk_url}/_sandbox/tickets",
                             json={"tickets": [c.spec for c in cases]}, timeout=10).json()["tickets"]
        for case, ticket in zip(cases, created, strict=True):
            draft = chaos_cases.draft(case.number, ticket["id"], ticket["attachment_ids"], seed, rng)
            assert draft["summary"].startswith(f"chaos case {ticket['id']}: ")
            result = stack.container.escalations.validate(EscalationDraft(**draft))
            assert result.ok, (case.number, result.problems)
            assert not result.findings and not result.decision.warnings


# --- the checker --------------------------------------------------------------------------------


def _jira(*issues: dict[str, Any]) -> dict[str, Any]:
    return {"issues": list(issues)}


def _jissue(key: str, summary: str, labels: list[str], *replies: int) -> dict[str, Any]:
    comments = [{"id": str(n), "body": chaos_cases.reply_text(n)} for n in replies]
    return {"id": key, "key": key, "summary": summary, "labels": labels, "comments": comments}


def _zticket(tid: int, *notes: str, public: tuple[str, ...] = ()) -> dict[str, Any]:
    comments = [{"public": True, "body": "member text"}]
    comments += [{"public": False, "body": n} for n in notes] + [{"public": True, "body": p} for p in public]
    return {"id": tid, "comments": comments}


def _escalated(key: str) -> str:
    return f"Escalated to Jira {key} (Bug): http://jira.invalid/browse/{key}"


def _note(*replies: int) -> str:
    return "Jira update on ESCA-1\n\n" + "\n\n".join(f"Riley Vance commented:\n{chaos_cases.reply_text(n)}"
                                                   for n in replies)


def test_a_clean_run_counts_nothing() -> None:
    expected = Expected(escalations={11: [EID_A], 12: [EID_B]}, replies={1: 11, 2: 11, 3: 12})
    jira = _jira(_jissue("ESCA-1", "chaos case 11: a", ["escalink", escalation_label(EID_A)], 1, 2),
                 _jissue("ESCA-2", "chaos case 12: b", ["escalink", escalation_label(EID_B)], 3))
    zendesk = {"tickets": [_zticket(11, _escalated("ESCA-1"), _note(1), _note(2)),
                           _zticket(12, _escalated("ESCA-2"), _note(3))]}
    verdict = compare(expected, jira, zendesk, dead=0)
    assert verdict.ok
    assert (verdict.lost, verdict.duplicate_issues, verdict.duplicate_notes, verdict.missing_notes) == ([], 0, 0, 0)
    assert report_lines(verdict, store="sqlite", escalations=2, events=3)[-1] == (
        "chaos: store sqlite escalations 2 events 3 lost 0 duplicate_issues 0 duplicate_notes 0 missing_notes 0 "
        "dead 0")


def test_lost_escalations_by_label_or_by_summary() -> None:
    expected = Expected(escalations={11: [EID_A], 12: [], 13: [], 14: [EID_C]})
    jira = _jira(_jissue("ESCA-1", "chaos case 12: answered late", ["escalink", "escalink-ffffffffffff"]),
                 _jissue("ESCA-2", "chaos case 99: not ours", []))
    zendesk = {"tickets": [_zticket(12, _escalated("ESCA-1"))]}
    verdict = compare(expected, jira, zendesk, dead=0)
    # 11 and 14 have no issue with their label, 13 was never answered and no summary names it.
    assert verdict.lost == [11, 13, 14]
    assert verdict.missing_escalation_notes == []  # a lost ticket is counted once, as lost
    assert not verdict.ok


def test_duplicate_issues_per_label_and_per_ticket() -> None:
    expected = Expected(escalations={11: [EID_A], 12: [EID_B, EID_C]})
    jira = _jira(_jissue("ESCA-1", "chaos case 11: a", [escalation_label(EID_A)]),
                 _jissue("ESCA-2", "chaos case 11: a", [escalation_label(EID_A)]),
                 _jissue("ESCA-3", "chaos case 11: a", ["escalink"]),
                 _jissue("ESCA-4", "chaos case 12: b", [escalation_label(EID_B)]),
                 _jissue("ESCA-5", "chaos case 12: b", [escalation_label(EID_C)]))
    zendesk = {"tickets": [_zticket(11, _escalated("ESCA-1")), _zticket(12, _escalated("ESCA-4"))]}
    verdict = compare(expected, jira, zendesk, dead=0)
    assert verdict.duplicate_issues == 3
    assert verdict.label_duplicates == 1
    assert verdict.issues_by_ticket == {11: ["ESCA-1", "ESCA-2", "ESCA-3"], 12: ["ESCA-4", "ESCA-5"]}
    assert verdict.lost == [] and verdict.duplicate_notes == 0


def test_duplicate_and_missing_notes() -> None:
    expected = Expected(escalations={11: [EID_A], 12: [EID_B], 13: [EID_C]},
                        replies={1: 11, 2: 11, 3: 12, 4: 12, 5: 13})
    jira = _jira(_jissue("ESCA-1", "chaos case 11: a", [escalation_label(EID_A)], 1, 2, 6),
                 _jissue("ESCA-2", "chaos case 12: b", [escalation_label(EID_B)], 3, 4),
                 _jissue("ESCA-3", "chaos case 13: c", [escalation_label(EID_C)], 5))
    zendesk = {"tickets": [
        # reply 1 twice in one batch note and once more; reply 2 missing; reply 6 (unrecorded) present
        _zticket(11, _escalated("ESCA-1"), _escalated("ESCA-1"), _note(1, 1), _note(1, 6)),
        # reply 3 present; reply 4 only in a public comment; reply 5 noted on the wrong ticket
        _zticket(12, _escalated("ESCA-2"), _note(3, 5), public=(_note(4),)),
        # no escalation note at all
        _zticket(13),
    ]}
    verdict = compare(expected, jira, zendesk, dead=2)
    assert verdict.duplicate_replies == {1: 2, 5: 1}
    assert verdict.duplicate_escalation_notes == {11: 1}
    assert verdict.duplicate_notes == 4
    assert verdict.missing_replies == [2, 4, 5]
    assert verdict.missing_escalation_notes == [13]
    assert verdict.missing_notes == 4
    assert verdict.public_copies == 1
    assert verdict.dead == 2
    lines = report_lines(verdict, store="postgres", escalations=3, events=6)
    assert lines[-1] == ("chaos: store postgres escalations 3 events 6 lost 0 duplicate_issues 0 duplicate_notes 4 "
                         "missing_notes 4 dead 2")
    assert any(line.startswith("  missing reply notes") and "e.g. 2, 4, 5" in line for line in lines)


def test_dead_jobs_alone_fail_the_run() -> None:
    expected = Expected(escalations={11: [EID_A]})
    jira = _jira(_jissue("ESCA-1", "chaos case 11: a", [escalation_label(EID_A)]))
    verdict = compare(expected, jira, {"tickets": [_zticket(11, _escalated("ESCA-1"))]}, dead=1)
    assert not verdict.ok
    assert compare(expected, jira, {"tickets": [_zticket(11, _escalated("ESCA-1"))]}, dead=0).ok


@pytest.mark.parametrize("number", [0, 7, 12345, 99999])
def test_reply_texts_are_found_again_exactly(number: int) -> None:
    expected = Expected(escalations={11: [EID_A]}, replies={number: 11})
    jira = _jira(_jissue("ESCA-1", "chaos case 11: a", [escalation_label(EID_A)], number))
    other = (number + 1) % 100000
    zendesk = {"tickets": [_zticket(11, _escalated("ESCA-1"), _note(other))]}
    verdict = compare(expected, jira, zendesk, dead=0)
    assert verdict.missing_replies == [number]
    assert verdict.duplicate_replies == {other: 1}
