"""Notify linked issues over in-memory vendors and a real SQLite store: what is (not) written."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import pytest

from escalink.adapters.db.store import SqlStore, make_engine, upgrade_to_head
from escalink.adapters.queue.huey_queue import HueyQueue, make_huey
from escalink.domain.draft import PhiAction
from escalink.domain.errors import Conflict, DraftRejected, NotFound, VendorRejected, VendorUnavailable
from escalink.domain.phi import PhiBlocked
from escalink.domain.records import Attachment, Comment, TicketUpdate
from escalink.ports.audit import NullAuditLog
from escalink.services.jobs import JobRunner, RunnerOptions
from escalink.services.notify import NotifyCommand, NotifyService, comment_marker, ref_of
from escalink.services.notify_jobs import NotifyJobs
from escalink.services.phi_guard import PhiGuard
from escalink.services.roles import Caller, Identity, NotAllowed, Role

TICKET = 42
FAKE_PHI = {"Quarry": "NAME", "1971-03-09": "DATE"}


@dataclass(frozen=True)
class Hit:
    label: str
    start: int
    end: int
    score: float = 0.9
    recognizer: str = "fake"


def fake_scan(text: str, field: str) -> list[Hit]:
    return sorted((Hit(label, i, i + len(w)) for w, label in FAKE_PHI.items() if (i := text.find(w)) >= 0),
                  key=lambda h: h.start)


def att(aid: int, name: str, size: int = 10, inline: bool = False) -> Attachment:
    return Attachment(aid, name, f"https://z.example/attachments/token/t{aid}/?name={name}", "image/png", size, inline)


class FakeHelpdesk:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.comments = [
            Comment(1, 7, "The app closes after login.", True, "t1",
                    (att(501, "crash.png"), att(502, "big.mp4", 10**6))),
            Comment(2, 8, "Internal: member Quarry.", False, "t2", ()),
        ]
        self.fail_download: set[str] = set()
        self.fail_update = False

    def list_comments(self, ticket_id: int) -> list[Comment]:
        self.calls.append(("list_comments", ticket_id))
        if ticket_id != TICKET:
            raise NotFound("no ticket")
        return self.comments

    def download_attachment(self, content_url: str) -> bytes:
        self.calls.append(("download", content_url))
        if any(s in content_url for s in self.fail_download):
            raise VendorUnavailable("Zendesk is unavailable")
        return b"data"

    def update_ticket(self, ticket_id: int, update: TicketUpdate) -> None:
        self.calls.append(("update", update))
        if self.fail_update:
            raise VendorUnavailable("Zendesk is unavailable")

    def ticket_url(self, ticket_id: int) -> str:
        return f"https://z.example/agent/tickets/{ticket_id}"


class FakeTracker:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.fail_comment: set[str] = set()
        self.fail_upload: set[str] = set()

    def add_attachment(self, issue_id: str, file_name: str, content: bytes, content_type: str) -> None:
        self.calls.append(("attach", issue_id, file_name))
        if file_name in self.fail_upload:
            raise VendorRejected("Jira refused the file (HTTP 413)")

    def add_comment(self, issue_id: str, text: str) -> str:
        self.calls.append(("comment", issue_id, text))
        if issue_id in self.fail_comment:
            raise VendorUnavailable("Jira is busy or unavailable (HTTP 500). Nothing is lost: try again.")
        return f"c{len(self.calls)}"

    def attachment_names(self, issue_id: str) -> set[str]:
        return {name for kind, i, name in self.calls if kind == "attach" and i == issue_id
                and name not in self.fail_upload}

    def find_comment(self, issue_id: str, text: str) -> str | None:
        self.calls.append(("find_comment", issue_id, text))
        return next((f"c{n}" for n, (kind, i, t) in enumerate(self.calls, 1)
                     if kind == "comment" and i == issue_id and text in t and issue_id not in self.fail_comment),
                    None)

    def comments(self, issue_id: str) -> list[str]:
        return [t for kind, i, t in self.calls if kind == "comment" and i == issue_id]


@pytest.fixture
def store(tmp_path: Any) -> SqlStore:
    url = f"sqlite:///{tmp_path / 'n.db'}"
    upgrade_to_head(url)
    s = SqlStore(make_engine(url))
    for n in (1, 2, 3):
        s.add_link(TICKET, f"1000{n}", f"ESCA-{n}")
    return s


@pytest.fixture
def hd() -> FakeHelpdesk:
    return FakeHelpdesk()


@pytest.fixture
def tr() -> FakeTracker:
    return FakeTracker()


@pytest.fixture
def svc(store: SqlStore, hd: FakeHelpdesk, tr: FakeTracker) -> NotifyService:
    """Deliveries run as jobs, inline; a failed one waits for its back-off (or an agent's retry)."""
    runner = JobRunner(store, options=RunnerOptions(max_attempts=3, backoff_base_seconds=60))
    queue = HueyQueue(make_huey("immediate", database_url=""), runner, store)
    service = NotifyService(hd, tr, store, PhiGuard(fake_scan), max_attachment_bytes=1000,  # type: ignore[arg-type]
                            dispatcher=queue)
    for kind, handler in NotifyJobs(hd, tr, store, NullAuditLog(),  # type: ignore[arg-type]
                                    on_settled=service.delivery_settled).kinds().items():
        runner.register(kind, handler)
    return service


AGENT = Caller(Identity("agent@example.com"), Role.AGENT)
TIER2 = Caller(Identity("tier2@example.com"), Role.TIER2)


def cmd(**over: Any) -> NotifyCommand:
    data: dict[str, Any] = {"ticket_id": TICKET, "caller": AGENT, "comment": "Still failing on 8.14.1."}
    data.update(over)
    return NotifyCommand(**data)


def test_marker_line_and_ref() -> None:
    nid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    assert ref_of(nid) == "0f1e2d3c"
    assert comment_marker(101, "0f1e2d3c") == "(sent from Zendesk ticket #101 via Escalink, ref 0f1e2d3c)"


def test_comment_only_goes_to_every_linked_issue_without_reading_zendesk(svc: NotifyService, hd: FakeHelpdesk,
                                                                          tr: FakeTracker) -> None:
    r = svc.notify(cmd())
    assert hd.calls == [] and [c[1] for c in tr.calls] == ["10001", "10002", "10003"]
    assert r.state == "sent" and r.warnings[0].code == "several_issues"
    for issue in ("10001", "10002", "10003"):
        (text,) = tr.comments(issue)
        assert text.startswith("Still failing on 8.14.1.") and text.endswith(comment_marker(TICKET, r.ref or ""))


def test_files_are_downloaded_once_and_one_over_the_limit_is_never_fetched(svc: NotifyService, hd: FakeHelpdesk,
                                                                          tr: FakeTracker) -> None:
    r = svc.notify(cmd(attachment_ids=(501, 502)))
    assert [c[0] for c in hd.calls] == ["list_comments", "download"] and "t501" in hd.calls[1][1]
    uploads = [c for c in tr.calls if c[0] == "attach"]
    assert uploads == [("attach", i, "crash.png") for i in ("10001", "10002", "10003")]
    assert "big.mp4" in tr.comments("10001")[0] and "/attachments/token/t502/" in tr.comments("10001")[0]
    assert [w.code for w in r.warnings] == ["several_issues", "too_large"]  # told once, not once per issue


def test_an_upload_or_download_failure_sends_the_address_instead(svc: NotifyService, hd: FakeHelpdesk,
                                                                 tr: FakeTracker, store: SqlStore) -> None:
    store.remove_link(TICKET, "10003")
    tr.fail_upload = {"crash.png"}
    r = svc.notify(cmd(attachment_ids=(501,)))
    assert r.state == "sent" and all("/attachments/token/t501/" in tr.comments(i)[0] for i in ("10001", "10002"))
    assert [w.code for w in r.warnings] == ["several_issues", "upload_failed", "upload_failed"]
    hd.fail_download = {"t501"}
    r = svc.notify(cmd(attachment_ids=(501,)))
    assert [w.code for w in r.warnings] == ["several_issues", "download_failed"]
    assert [d.details[0]["outcome"] for d in r.deliveries] == ["linked", "linked"]


def test_a_failed_issue_is_retried_alone_and_a_sent_one_never_again(svc: NotifyService, tr: FakeTracker) -> None:
    tr.fail_comment = {"10002"}
    r = svc.notify(cmd(attachment_ids=(501,)))
    assert [d.state for d in r.deliveries] == ["sent", "failed", "sent"] and r.state == "partial"
    failed = r.deliveries[1]
    assert "HTTP 500" in (failed.error or "") and r.warnings[-1].code == "failed"
    tr.fail_comment.clear()
    tr.calls.clear()
    again = svc.retry(TICKET, failed.id)
    assert again.state == "sent" and again.attempts == 2 and again.error is None
    # Its marker is looked for first (an answer lost after Jira took it must not make a copy); the file
    # went with the first attempt.
    assert [c[0] for c in tr.calls] == ["find_comment", "comment"]
    with pytest.raises(Conflict):
        svc.retry(TICKET, failed.id)
    with pytest.raises(Conflict):
        svc.retry(TICKET, r.deliveries[0].id)
    with pytest.raises(NotFound):
        svc.retry(TICKET + 1, failed.id)


def test_copy_last_comment_takes_the_latest_public_comment_and_its_files(svc: NotifyService,
                                                                         tr: FakeTracker) -> None:
    r = svc.notify(cmd(comment="", copy_last_comment=True, target_issue="esca-2", caller=TIER2))
    assert r.state == "sent" and [d.jira_key for d in r.deliveries] == ["ESCA-2"]
    (text,) = tr.comments("10002")
    assert text.startswith("The app closes after login.") and "Quarry" not in text
    assert ("attach", "10002", "crash.png") in tr.calls


def test_phi_blocks_everything_and_the_choices_rewrite_it(svc: NotifyService, hd: FakeHelpdesk, tr: FakeTracker,
                                                          store: SqlStore) -> None:
    hd.comments[0] = Comment(1, 7, "x", True, "t", (att(503, "Quarry 1971-03-09.png"),))
    with pytest.raises(PhiBlocked) as blocked:
        svc.notify(cmd(comment="Member Quarry again", attachment_ids=(503,)))
    assert {f.field for f in blocked.value.findings} == {"comment", "attachment_ids[0]"}
    assert blocked.value.redacted["comment"] == "Member [NAME] again"
    assert tr.calls == [] and [c[0] for c in hd.calls] == ["list_comments"]

    svc.notify(cmd(comment="Member Quarry again", phi_action=PhiAction.REDACT, target_issue="ESCA-1", caller=TIER2))
    assert tr.comments("10001")[0].startswith("Member [NAME] again")

    tr.calls.clear()
    hd.calls.clear()
    r = svc.notify(cmd(comment="Member Quarry again", attachment_ids=(503,), target_issue="ESCA-1", caller=TIER2,
                       phi_action=PhiAction.MOVE_TO_NOTE))
    note = hd.calls[1][1]
    assert hd.calls[1][0] == "update" and "Quarry 1971-03-09.png" in note.internal_note
    assert [c[2] for c in tr.calls] == ["attachment-503.png", tr.comments("10001")[0]]
    assert "Quarry" not in str(tr.calls) and "ticket #42, internal note" in tr.comments("10001")[0]
    assert r.phi_findings == 3  # the name in the comment, the name and the date in the file name
    assert [d.action for d in store.phi_decisions(TICKET)] == ["block", "redact", "move_to_internal_note"]

    with pytest.raises(DraftRejected) as short:
        svc.notify(cmd(comment="Member Quarry", phi_action=PhiAction.OVERRIDE, phi_override_reason="no"))
    assert short.value.problems[0].field == "phi_override_reason"


def test_tier1_may_not_target_one_issue_but_may_hand_it_to_tier2(svc: NotifyService, hd: FakeHelpdesk,
                                                                tr: FakeTracker, store: SqlStore) -> None:
    with pytest.raises(NotAllowed) as refused:
        svc.notify(cmd(target_issue="ESCA-2"))
    assert refused.value.status == 403 and refused.value.problems[0].field == "target_issue"
    with pytest.raises(DraftRejected):
        svc.notify(cmd(handoff_to_tier2=True))
    with pytest.raises(DraftRejected) as unlinked:
        svc.notify(cmd(target_issue="ESCA-9", handoff_to_tier2=True))
    assert unlinked.value.problems[0].code == "not_linked"

    r = svc.notify(cmd(target_issue="ESCA-2", handoff_to_tier2=True, attachment_ids=(501,)))
    assert r.state == "handed_off" and r.handoff is not None and tr.calls == []
    update = hd.calls[-1][1]
    assert update.add_tags == ("escalink_tier2_handoff",) and "ESCA-2" in update.internal_note
    with pytest.raises(NotAllowed):
        svc.send_handoff(r.handoff.id, AGENT)
    sent = svc.send_handoff(r.handoff.id, TIER2)
    assert [d.jira_key for d in sent.deliveries] == ["ESCA-2"] and sent.handoff and sent.handoff.status == "done"
    assert store.handoffs() == []
    with pytest.raises(Conflict):
        svc.send_handoff(r.handoff.id, TIER2)


def test_a_hand_off_tier2_cannot_see_is_cancelled(svc: NotifyService, hd: FakeHelpdesk, store: SqlStore) -> None:
    hd.fail_update = True
    with pytest.raises(VendorUnavailable):
        svc.notify(cmd(target_issue="ESCA-2", handoff_to_tier2=True))
    assert store.handoffs() == [] and store.handoffs(status="cancelled")


def test_what_cannot_be_sent_is_refused_before_any_write(svc: NotifyService, tr: FakeTracker,
                                                         store: SqlStore) -> None:
    with pytest.raises(DraftRejected) as missing:
        svc.notify(cmd(attachment_ids=(999,)))
    assert missing.value.problems[0].field == "attachment_ids[0]"
    with pytest.raises(DraftRejected) as empty:
        svc.notify(cmd(comment="  "))
    assert empty.value.problems[0].field == "comment"
    store.add_link(7, "10009", "ESCA-9")
    with pytest.raises(NotFound) as no_ticket:
        svc.notify(cmd(ticket_id=7, attachment_ids=(1,)))
    assert no_ticket.value.problems[0].field == "ticket_id"
    for n in (1, 2, 3):
        store.remove_link(TICKET, f"1000{n}")
    with pytest.raises(DraftRejected) as none:
        svc.notify(cmd())
    assert none.value.problems[0].code == "no_linked_issues"
    assert tr.calls == []


def test_a_retried_delivery_does_not_upload_a_file_jira_took_before_the_answer_was_lost(
    svc: NotifyService, store: SqlStore, tr: FakeTracker
) -> None:
    tr.fail_comment = {"10002"}
    r = svc.notify(cmd(attachment_ids=(501,)))
    failed = r.deliveries[1]
    # As if the process died after the upload but before recording it: the file shows as not yet attached.
    store.set_delivery(failed.id, state="failed", jira_comment_id=None,
                       details=[{**x, "outcome": "pending"} for x in failed.details])
    tr.fail_comment.clear()
    tr.calls = [c for c in tr.calls if c[:2] != ("comment", "10002")]  # Jira never took that comment
    uploads = [c for c in tr.calls if c[0] == "attach"]
    job = store.jobs(delivery_id=failed.id)[0]
    handler = NotifyJobs(FakeHelpdesk(), tr, store, NullAuditLog())  # type: ignore[arg-type]
    handler.run(dataclasses.replace(job, attempts=job.attempts + 1), "w")  # the queue's own retry
    again = store.get_delivery(failed.id)
    assert again is not None and again.state == "sent"
    assert [a["outcome"] for a in again.details] == ["attached"]
    assert [c for c in tr.calls if c[0] == "attach"] == uploads  # the file was in Jira already
