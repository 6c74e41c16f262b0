"""The escalation use case over in-memory fakes: order of calls and what is (not) written."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from escalink.adapters.db.store import SqlStore, make_engine, upgrade_to_head
from escalink.adapters.queue.huey_queue import HueyQueue, make_huey
from escalink.domain.draft import EscalationDraft
from escalink.domain.errors import Conflict, DraftRejected, TrackerMisconfigured, VendorUnavailable
from escalink.domain.records import Attachment, Comment, CreatedIssue, IssueSpec, IssueView, TicketUpdate
from escalink.policy import load_policy
from escalink.ports.audit import NullAuditLog
from escalink.services.escalate import EscalationOptions, EscalationService
from escalink.services.escalation_jobs import EscalationJobs
from escalink.services.jobs import JobRunner, RunnerOptions
from escalink.services.phi_guard import PhiGuard

CHECKLIST = ["reviewed_escalations_chart", "escalation_necessary", "issue_type_identified"]
UUID = "3f2b8c1e-9a4d-4e6b-8f1a-2c3d4e5f6a7b"


class FakeHelpdesk:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.fail_download = False
        self.file_name = "screen.png"
        self.status = "open"

    def get_ticket(self, ticket_id: int) -> SimpleNamespace:
        self.calls.append(("get_ticket", ticket_id))
        return SimpleNamespace(status=self.status)

    def list_comments(self, ticket_id: int) -> list[Comment]:
        self.calls.append(("list_comments", ticket_id))
        att = Attachment(501, self.file_name, "http://z/a/501", "image/png", 10)
        return [Comment(1, 9, "hello", True, "2026-01-01T00:00:00Z", (att,))]

    def download_attachment(self, content_url: str) -> bytes:
        self.calls.append(("download", content_url))
        if self.fail_download:
            raise VendorUnavailable("Zendesk is unavailable")
        return b"png"

    def update_ticket(self, ticket_id: int, update: TicketUpdate) -> None:
        self.calls.append(("update", update))

    def ticket_url(self, ticket_id: int) -> str:
        return f"https://z.example/agent/tickets/{ticket_id}"


class FakeTracker:
    def __init__(self, misconfigured: bool = False) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.misconfigured = misconfigured

    def check_issue(self, spec: IssueSpec) -> list[str]:
        self.calls.append(("check", spec.issue_type))
        if self.misconfigured:
            raise TrackerMisconfigured("Severity is not on the create screen")
        return []

    def create_issue(self, spec: IssueSpec) -> CreatedIssue:
        self.calls.append(("create", spec))
        return CreatedIssue("10001", "ESCA-1", "https://j.example/browse/ESCA-1")

    def find_by_label(self, label: str) -> CreatedIssue | None:
        self.calls.append(("find", label))
        return None

    def add_attachment(self, issue_id: str, file_name: str, content: bytes, content_type: str) -> None:
        self.calls.append(("attach", file_name))

    def attachment_names(self, issue_id: str) -> set[str]:
        self.calls.append(("attachment_names", issue_id))
        return {name for kind, name in self.calls if kind == "attach"}

    def add_remote_link(self, issue_id: str, global_id: str, url: str, title: str) -> None:
        self.calls.append(("link", global_id))

    def get_issue(self, issue_id: str) -> IssueView:
        raise AssertionError("not used")

    def issue_url(self, key: str) -> str:
        return f"https://j.example/browse/{key}"


def bug_draft(**over: Any) -> EscalationDraft:
    data: dict[str, Any] = {
        "ticket_id": 42, "agent_email": "agent@example.com", "area": "Incorrect Messaging",
        "summary": "Reminder message shows the wrong program name", "member_uuids": [UUID],
        "steps_to_reproduce": ["Opened app", "Opened messages", "Saw the wrong program name"],
        "expected_result": "The reminder names the enrolled program",
        "actual_result": "It names a program the member is not in",
        "severity": "Medium", "priority": "Major", "platform": "iOS",
        "attachment_ids": [501], "checklist": CHECKLIST,
    }
    data.update(over)
    return EscalationDraft.model_validate(data)


@pytest.fixture
def store(tmp_path: Any) -> SqlStore:
    url = f"sqlite:///{tmp_path / 'e.db'}"
    upgrade_to_head(url)
    return SqlStore(make_engine(url))


@dataclass(frozen=True)
class Hit:
    label: str
    start: int
    end: int
    score: float = 0.9
    recognizer: str = "fake"


# A deterministic stand-in for the detector: these fictional words are "PHI".
FAKE_PHI = {"Quarry": "NAME", "1971-03-09": "DATE", "metformin": "CLINICAL"}


def fake_scan(text: str, field: str) -> list[Hit]:
    return sorted(
        (Hit(label, i, i + len(word)) for word, label in FAKE_PHI.items() if (i := text.find(word)) >= 0),
        key=lambda h: h.start,
    )


def service(store: SqlStore, hd: FakeHelpdesk, tr: FakeTracker, max_attempts: int = 1,
            **opts: Any) -> EscalationService:
    """Jobs run inline; with one attempt a failing step is dead-lettered at once (retries: own tests)."""
    guard = PhiGuard(fake_scan)
    runner = JobRunner(store, options=RunnerOptions(max_attempts=max_attempts, backoff_base_seconds=0.01))
    for kind, handler in EscalationJobs(hd, tr, store, NullAuditLog()).kinds().items():  # type: ignore[arg-type]
        runner.register(kind, handler)
    queue = HueyQueue(make_huey("immediate", database_url=""), runner, store)
    return EscalationService(load_policy(), hd, tr, store, guard, EscalationOptions(**opts),  # type: ignore[arg-type]
                             dispatcher=queue)


def test_happy_path_calls_each_vendor_step_once_in_order(store: SqlStore) -> None:
    hd, tr = FakeHelpdesk(), FakeTracker()
    result = service(store, hd, tr, linked_issues_field_id=77).escalate(bug_draft())
    assert [c[0] for c in tr.calls] == ["check", "create", "attach", "link"]
    assert [c[0] for c in hd.calls] == ["get_ticket", "list_comments", "download", "update"]
    update = hd.calls[-1][1]
    assert update.status == "hold" and "ESCA-1" in update.internal_note
    assert update.custom_fields == {77: "ESCA-1"}
    assert result.state == "done" and result.zendesk_status == "hold"
    assert store.get_escalation(result.escalation_id).state == "done"  # type: ignore[union-attr]
    assert [lk.jira_key for lk in store.links_for_ticket(42)] == ["ESCA-1"]
    spec = tr.calls[1][1]
    assert spec.issue_type == "Bug" and spec.member_uuids == (UUID,)


def test_invalid_draft_sends_nothing_and_stores_nothing(store: SqlStore) -> None:
    hd, tr = FakeHelpdesk(), FakeTracker()
    with pytest.raises(DraftRejected) as err:
        service(store, hd, tr).escalate(bug_draft(priority="Release Blocker", member_uuids=["nope"], summary=""))
    fields = {p.field for p in err.value.problems}
    assert {"priority", "member_uuids[0]", "summary"} <= fields
    assert hd.calls == [] and tr.calls == [] and store.links_for_ticket(42) == []


def test_attachment_not_on_ticket_is_refused_before_any_write(store: SqlStore) -> None:
    hd, tr = FakeHelpdesk(), FakeTracker()
    with pytest.raises(DraftRejected) as err:
        service(store, hd, tr).escalate(bug_draft(attachment_ids=[501, 999]))
    assert [p.field for p in err.value.problems] == ["attachment_ids[1]"]
    assert [c[0] for c in tr.calls] == ["check"]
    assert store.links_for_ticket(42) == []


def test_a_closed_ticket_is_refused_before_any_write(store: SqlStore) -> None:
    hd, tr = FakeHelpdesk(), FakeTracker()
    hd.status = "closed"
    with pytest.raises(DraftRejected) as err:
        service(store, hd, tr).escalate(bug_draft())
    assert [(p.field, p.code) for p in err.value.problems] == [("ticket_id", "closed")]
    assert "create a follow-up ticket" in err.value.problems[0].message
    assert [c[0] for c in hd.calls] == ["get_ticket"] and [c[0] for c in tr.calls] == ["check"]
    assert store.links_for_ticket(42) == [] and store.escalations_for_ticket(42) == []


def test_tracker_misconfiguration_is_raised_before_any_write(store: SqlStore) -> None:
    hd, tr = FakeHelpdesk(), FakeTracker(misconfigured=True)
    with pytest.raises(TrackerMisconfigured):
        service(store, hd, tr).escalate(bug_draft())
    assert hd.calls == [] and [c[0] for c in tr.calls] == ["check"]


def test_a_failed_attachment_keeps_the_issue_and_reports_the_step(store: SqlStore) -> None:
    hd, tr = FakeHelpdesk(), FakeTracker()
    hd.fail_download = True
    result = service(store, hd, tr).escalate(bug_draft())
    assert result.state == "incomplete"
    assert [(a.file_name, a.sent) for a in result.attachments] == [("screen.png", False)]
    assert [s.step for s in result.steps if not s.ok] == ["attachment:501"]
    rec = store.get_escalation(result.escalation_id)
    assert rec is not None and rec.state == "incomplete" and rec.error_code == "attachment:501"
    assert [c[0] for c in hd.calls][-1] == "update"  # the ticket is still linked and put on hold


def test_no_hold_when_disabled(store: SqlStore) -> None:
    hd, tr = FakeHelpdesk(), FakeTracker()
    result = service(store, hd, tr, hold_after_escalation=False).escalate(bug_draft(attachment_ids=[]))
    assert hd.calls[-1][1].status is None and result.zendesk_status is None


def test_a_lost_create_answer_with_no_issue_found_fails_cleanly(store: SqlStore) -> None:
    hd, tr = FakeHelpdesk(), FakeTracker()

    def lost(spec: IssueSpec) -> CreatedIssue:
        tr.calls.append(("create", spec))
        raise VendorUnavailable("Jira did not answer")

    tr.create_issue = lost  # type: ignore[method-assign]
    with pytest.raises(VendorUnavailable):
        service(store, hd, tr).escalate(bug_draft(attachment_ids=[]))
    label = next(c[1] for c in tr.calls if c[0] == "find")
    assert label.startswith("escalink-") and label in next(c[1] for c in tr.calls if c[0] == "create").labels
    [record] = store.escalations_for_ticket(42)
    assert record.state == "failed" and store.links_for_ticket(42) == []
    assert [c[0] for c in hd.calls] == ["get_ticket", "list_comments"]  # the ticket was not touched


def drain(svc: EscalationService) -> None:
    """Let the back-off pass and run what is due, as the sweeper would."""
    time.sleep(0.05)
    svc.dispatcher.dispatch(svc.store.due_jobs(now=datetime.now(UTC)))


def test_a_failing_step_is_retried_by_its_job_and_the_escalation_completes(store: SqlStore) -> None:
    hd, tr = FakeHelpdesk(), FakeTracker()
    hd.fail_download = True
    svc = service(store, hd, tr, max_attempts=3)
    first = svc.escalate(bug_draft())
    assert first.state == "created" and first.issue.key == "ESCA-1"
    [pending] = [s for s in first.steps if not s.ok]
    assert pending.step == "attachment:501" and pending.detail.startswith("Queued; Escalink tries again")
    hd.fail_download = False
    drain(svc)
    after = svc.result_of(first.escalation_id)
    assert after.state == "done" and [(a.file_name, a.sent) for a in after.attachments] == [("screen.png", True)]
    assert [c[0] for c in tr.calls].count("create") == 1 and [c[0] for c in tr.calls].count("attach") == 1


def test_a_retried_create_looks_for_its_label_before_creating_again(store: SqlStore) -> None:
    hd, tr = FakeHelpdesk(), FakeTracker()
    made: list[IssueSpec] = []

    def flaky(spec: IssueSpec) -> CreatedIssue:
        made.append(spec)
        raise VendorUnavailable("Jira did not answer")  # and, this time, nothing was created

    tr.create_issue = flaky  # type: ignore[method-assign]
    svc = service(store, hd, tr, max_attempts=3)
    first = svc.escalate(bug_draft(attachment_ids=[]))
    assert first.state == "queued" and first.steps[0].step == "create"
    found = CreatedIssue("10009", "ESCA-9", "https://j.example/browse/ESCA-9")
    tr.find_by_label = lambda label: found if label in made[0].labels else None  # type: ignore[method-assign]
    drain(svc)
    after = svc.result_of(first.escalation_id)
    assert after.state == "done" and after.issue.key == "ESCA-9" and len(made) == 1


def test_the_same_idempotency_key_gives_the_same_escalation(store: SqlStore) -> None:
    hd, tr = FakeHelpdesk(), FakeTracker()
    svc = service(store, hd, tr)
    one = svc.escalate(bug_draft(attachment_ids=[]), idempotency_key="k-1")
    two = svc.escalate(bug_draft(attachment_ids=[]), idempotency_key="k-1")
    assert one.escalation_id == two.escalation_id and [c[0] for c in tr.calls].count("create") == 1
    with pytest.raises(Conflict):
        svc.escalate(bug_draft(ticket_id=43, attachment_ids=[]), idempotency_key="k-1")


def test_a_retried_upload_whose_answer_was_lost_is_not_sent_twice(store: SqlStore) -> None:
    hd, tr = FakeHelpdesk(), FakeTracker()
    service(store, hd, tr).escalate(bug_draft())
    job = store.jobs(kind="escalation.attachment")[0]
    handler = EscalationJobs(hd, tr, store, NullAuditLog())  # type: ignore[arg-type]
    handler.run(dataclasses.replace(job, attempts=2), "w")  # the first attempt's answer never came back
    assert [c for c in tr.calls if c[0] == "attach"] == [("attach", "screen.png")]
    tr.calls.clear()
    handler.run(dataclasses.replace(job, attempts=1), "w")  # a first attempt does not look
    assert [c[0] for c in tr.calls] == ["attach"]


class LateFinalState:
    """The store as a queued request sees it while the last job's settle step is still writing the state."""

    def __init__(self, store: SqlStore, stale_reads: int) -> None:
        self._store, self.stale_reads, self.reads = store, stale_reads, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def get_escalation(self, escalation_id: str) -> Any:
        self.reads += 1
        rec = self._store.get_escalation(escalation_id)
        return dataclasses.replace(rec, state="created") if self.reads <= self.stale_reads else rec


def test_a_queued_answer_waits_for_the_final_state_once_no_job_is_left(store: SqlStore) -> None:
    svc = service(store, FakeHelpdesk(), FakeTracker())
    done = svc.escalate(bug_draft())
    assert all(j.state == "done" for j in store.jobs(escalation_id=done.escalation_id))
    late = LateFinalState(store, stale_reads=3)
    svc.store = late  # type: ignore[assignment]
    svc.dispatcher = SimpleNamespace(immediate=False)  # type: ignore[assignment]
    rec = svc._settle_wait(done.escalation_id, wait_seconds=5.0)
    assert rec.state == "done" and late.reads == 4
