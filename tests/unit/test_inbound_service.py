"""InboundSync over a real SQL store with Zendesk and Jira stand-ins: coalescing, retries, failures."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from escalink.adapters.db.store import SqlStore, make_engine, upgrade_to_head
from escalink.domain.activity import ActivityUser, ChangeActivity, ChangeItem, IssueActivity
from escalink.domain.draft import Problem
from escalink.domain.errors import NotFound, VendorRejected, VendorUnavailable
from escalink.domain.records import Comment, TicketUpdate
from escalink.policy import load_policy
from escalink.policy.sync import SyncPolicy
from escalink.sandbox.replies import ENGINEER, JiraPerson, jira_change_webhook, jira_comment_webhook, sign_jira
from escalink.services.inbound import InboundSync, ProcessReport
from escalink.services.reconcile import Reconciler

SECRET = "s3cret"
OWN = JiraPerson("712020:escalink", "escalink", "Escalink Integration")


@dataclass
class _Ticket:
    status: str


@dataclass
class FakeZendesk:
    statuses: dict[int, str] = field(default_factory=dict)
    updates: list[tuple[int, TicketUpdate]] = field(default_factory=list)
    down: bool = False
    reject: bool = False
    comment_reads: int = 0

    def get_ticket(self, ticket_id: int) -> _Ticket:
        if self.down:
            raise VendorUnavailable("Zendesk is busy", vendor="zendesk")
        if ticket_id not in self.statuses:
            raise NotFound("no such ticket", vendor="zendesk")
        return _Ticket(self.statuses[ticket_id])

    def update_ticket(self, ticket_id: int, update: TicketUpdate) -> None:
        if self.reject:
            raise VendorRejected("refused", problems=[Problem("comment", "InvalidValue", "Comment: is invalid")],
                                 vendor="zendesk")
        self.updates.append((ticket_id, update))
        if update.status:
            self.statuses[ticket_id] = update.status

    def list_comments(self, ticket_id: int) -> list[Comment]:
        self.comment_reads += 1
        return [Comment(n, None, u.internal_note, False, "t")
                for n, (t, u) in enumerate(self.updates) if t == ticket_id]


@dataclass
class FakeJira:
    down: bool = False

    def own_account(self) -> str:
        if self.down:
            raise VendorUnavailable("Jira is busy", vendor="jira")
        return OWN.account_id

    def issue_url(self, key: str) -> str:
        return f"https://jira.example.com/browse/{key}"


@dataclass
class World:
    sync: InboundSync
    store: SqlStore
    zendesk: FakeZendesk
    jira: FakeJira

    def jira_comment(self, text: str, issue: str = "10001", key: str = "ESCA-1", **kw: object) -> bool:
        hook = jira_comment_webhook(issue_id=issue, issue_key=key, text=text, secret=SECRET, **kw)  # type: ignore[arg-type]
        return self.sync.accept_jira(hook.body, hook.headers).stored

    def process(self, after: float = 6.0) -> ProcessReport:
        return self.sync.process_pending(now=datetime.now(UTC) + timedelta(seconds=after))


@pytest.fixture
def world(tmp_path: object) -> Iterator[World]:
    url = f"sqlite:///{tmp_path}/sync.db"
    upgrade_to_head(url)
    store = SqlStore(make_engine(url))
    store.add_link(104, "10001", "ESCA-1")
    zendesk, jira = FakeZendesk({104: "hold", 105: "pending"}), FakeJira()
    sync = InboundSync(store, zendesk, jira, load_policy().sync, coalesce_seconds=5)
    yield World(sync, store, zendesk, jira)
    store.engine.dispose()


def test_events_inside_the_window_wait(world: World) -> None:
    world.jira_comment("First answer")
    assert world.process(after=1) == ProcessReport()
    assert world.zendesk.updates == []
    assert world.process().processed == 1


def test_zendesk_down_keeps_the_event_pending_with_attempts_counted(world: World) -> None:
    world.jira_comment("An answer that must not be lost")
    world.zendesk.down = True
    start = datetime.now(UTC) + timedelta(seconds=6)
    report = world.sync.process_pending(now=start)
    assert report.retrying == 1 and report.failed == 0
    [pending] = world.store.pending_inbound(received_before=start)
    assert world.sync.attempts(pending.id) == 1 and pending.payload is not None
    # Not retried before its back-off has passed, then again counted.
    assert world.sync.process_pending(now=start) == ProcessReport()
    assert world.sync.process_pending(now=start + timedelta(seconds=1)).retrying == 1
    assert world.sync.attempts(pending.id) == 2

    world.zendesk.down = False
    report = world.sync.process_pending(now=start + timedelta(minutes=5))
    assert (report.processed, report.zendesk_updates) == (1, 1)
    assert "An answer that must not be lost" in world.zendesk.updates[0][1].internal_note
    assert world.store.inbound_counts() == {"processed": 1}


def test_retry_state_survives_a_restart(world: World) -> None:
    world.jira_comment("Answer during an outage")
    world.zendesk.down = True
    start = datetime.now(UTC) + timedelta(seconds=6)
    assert world.sync.process_pending(now=start).retrying == 1
    # A new process over the same database: same count, same back-off, nothing sent early.
    restarted = InboundSync(world.store, world.zendesk, world.sync.tracker, load_policy().sync, coalesce_seconds=5)
    [pending] = world.store.pending_inbound(received_before=start)
    assert restarted.attempts(pending.id) == 1 and pending.next_try_at is not None
    assert restarted.process_pending(now=start) == ProcessReport()
    world.zendesk.down = False
    assert restarted.process_pending(now=start + timedelta(seconds=2)).processed == 1


def test_an_event_that_keeps_failing_ends_failed_after_max_attempts(world: World) -> None:
    world.sync.sync = SyncPolicy(max_attempts=3)
    world.jira_comment("Answer")
    world.zendesk.down = True
    now = datetime.now(UTC) + timedelta(seconds=6)
    reports = [world.sync.process_pending(now=now + timedelta(hours=i)) for i in range(3)]
    assert [r.retrying for r in reports] == [1, 1, 0] and reports[-1].failed == 1
    assert world.store.inbound_counts() == {"failed": 1}


def test_a_malformed_event_fails_alone(world: World) -> None:
    world.sync.accept_jira(b"{not json", {})
    world.sync.accept_jira(b'{"webhookEvent": "comment_created"}', {})  # no comment in it
    world.jira_comment("Still arrives")
    report = world.process()
    assert (report.failed, report.processed, report.zendesk_updates) == (2, 1, 1)
    assert world.store.inbound_counts() == {"failed": 2, "processed": 1}


def test_a_rejected_update_fails_without_a_retry_loop(world: World) -> None:
    world.zendesk.reject = True
    world.jira_comment("Answer")
    assert world.process().failed == 1
    assert world.process() == ProcessReport()


def test_jira_unreachable_for_the_own_account_defers_jira_events(world: World) -> None:
    world.jira.down = True
    world.jira_comment("Answer")
    assert world.process().retrying == 1 and world.zendesk.updates == []
    world.jira.down = False
    assert world.process(after=60).processed == 1


def test_one_issue_linked_to_two_tickets_notes_each_once(world: World) -> None:
    world.store.add_link(105, "10001", "ESCA-1")
    world.jira_comment("One")
    world.jira_comment("Two")
    report = world.process()
    assert (report.processed, report.zendesk_updates) == (2, 2)
    assert sorted(t for t, _ in world.zendesk.updates) == [104, 105]
    assert all(u.status == "open" for _, u in world.zendesk.updates)


def test_a_partial_failure_does_not_note_the_same_ticket_twice(world: World) -> None:
    world.store.add_link(106, "10001", "ESCA-1")  # a ticket Zendesk no longer has is skipped
    world.store.add_link(105, "10001", "ESCA-1")
    world.jira_comment("Answer")
    calls: list[int] = []
    original = world.zendesk.update_ticket

    def flaky(ticket_id: int, update: TicketUpdate) -> None:
        calls.append(ticket_id)
        if ticket_id == 105 and calls.count(105) == 1:
            raise VendorUnavailable("busy", vendor="zendesk")
        original(ticket_id, update)

    world.zendesk.update_ticket = flaky  # type: ignore[method-assign]
    assert world.process().retrying == 1
    assert world.process(after=120).processed == 1
    assert sorted(t for t, _ in world.zendesk.updates) == [104, 105]


def test_server_sending_one_comment_twice_is_quoted_once(world: World) -> None:
    for delivery in ("a", "b"):
        hook = jira_comment_webhook(issue_id="10001", issue_key="ESCA-1", text="Same comment", secret=SECRET,
                                    comment_id="777", delivery_id=delivery)
        world.sync.accept_jira(hook.body, hook.headers)
    world.process()
    [(_, update)] = world.zendesk.updates
    assert update.internal_note.count("Same comment") == 1


def test_a_delivery_without_identifier_is_deduplicated_on_its_body(world: World) -> None:
    hook = jira_comment_webhook(issue_id="10001", issue_key="ESCA-1", text="x", secret=SECRET, flavor="datacenter")
    assert "X-Atlassian-Webhook-Identifier" not in hook.headers
    assert world.sync.accept_jira(hook.body, hook.headers).stored
    receipt = world.sync.accept_jira(hook.body, hook.headers)
    assert not receipt.stored and receipt.delivery_id.startswith("sha256:")


def test_unlinked_issues_and_own_changes_are_ignored_without_calling_zendesk(world: World) -> None:
    world.jira_comment("Elsewhere", issue="99999", key="ESCA-99")
    world.jira_comment("Mine", author=OWN)
    hook = jira_change_webhook(issue_id="10001", issue_key="ESCA-1", changes=[("status", "Open", "Done")],
                               secret=SECRET, actor=OWN)
    world.sync.accept_jira(hook.body, hook.headers)
    assert world.process().ignored == 3
    assert world.zendesk.updates == []


def test_a_solved_ticket_keeps_its_status(world: World) -> None:
    world.zendesk.statuses[104] = "solved"
    world.jira_comment("FYI")
    world.process()
    [(_, update)] = world.zendesk.updates
    assert update.status is None and "stays solved" in update.internal_note


def test_unknown_zendesk_events_and_ignored_jira_events_are_ignored(world: World) -> None:
    hook = sign_jira({"webhookEvent": "jira:issue_created", "issue": {"id": "1", "key": "ESCA-1"}}, SECRET, "c1")
    world.sync.accept_jira(hook.body, hook.headers)
    world.sync.accept_zendesk(b'{"ticket_id": 104, "status": "open"}', {})
    assert world.process().ignored == 2


def test_a_comment_sent_twice_is_quoted_once_on_every_linked_ticket(world: World) -> None:
    world.store.add_link(105, "10001", "ESCA-1")
    for delivery in ("a", "b"):
        hook = jira_comment_webhook(issue_id="10001", issue_key="ESCA-1", text="Twice", secret=SECRET,
                                    comment_id="778", delivery_id=delivery)
        world.sync.accept_jira(hook.body, hook.headers)
    world.process()
    assert sorted((t, u.internal_note.count("Twice")) for t, u in world.zendesk.updates) == [(104, 1), (105, 1)]


def test_a_comment_that_arrives_again_later_is_not_noted_twice(world: World) -> None:
    # A replay under a new delivery id, or reconciliation finding what a webhook already brought.
    world.jira_comment("Fixed in 8.15", comment_id="900", delivery_id="first")
    world.process()
    world.jira_comment("Fixed in 8.15", comment_id="900", delivery_id="second")
    report = world.process(after=12)
    assert len(world.zendesk.updates) == 1 and report.ignored == 1
    note = world.zendesk.updates[0][1].internal_note
    assert note.endswith("(Escalink refs: 10001/900/created)\n(Escalink ref sync 1)")


def test_a_note_zendesk_took_just_before_a_crash_is_not_written_again(world: World) -> None:
    world.jira_comment("Fixed in 8.15", comment_id="901")
    real = world.store.mark_noted

    def crash(ticket_id: int, keys: object) -> None:
        raise RuntimeError("the process stops here")

    world.store.mark_noted = crash  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        world.process()  # Zendesk has the note; Escalink never recorded it
    world.store.mark_noted = real  # type: ignore[method-assign]
    restarted = InboundSync(world.store, world.zendesk, world.jira, load_policy().sync, coalesce_seconds=5,
                            write_window_seconds=20)
    # The stopped process's request may still be on its way to Zendesk: the ticket is read only after.
    early = restarted.process_pending(now=datetime.now(UTC) + timedelta(seconds=6))
    assert early.retrying == 1 and len(world.zendesk.updates) == 1 and world.zendesk.comment_reads == 0
    waiting = world.store.get_inbound(1)
    assert waiting is not None and waiting.attempts == 0  # a pause, not a failed attempt
    report = restarted.process_pending(now=datetime.now(UTC) + timedelta(seconds=60))
    assert len(world.zendesk.updates) == 1 and report.ignored == 1 and report.processed == 0
    assert world.store.noted_comments(104, [("10001", "901", "created")])


def test_a_status_note_zendesk_took_just_before_a_crash_is_not_written_again(world: World) -> None:
    hook = jira_change_webhook(issue_id="10001", issue_key="ESCA-1", changes=[("status", "Open", "Done")],
                               secret=SECRET)
    world.sync.accept_jira(hook.body, hook.headers)
    real = world.store.mark_noted

    def crash(ticket_id: int, keys: object) -> None:
        raise RuntimeError("the process stops here")

    world.store.mark_noted = crash  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        world.process()  # Zendesk has the note (no comment in it: only the sync marker tells)
    world.store.mark_noted = real  # type: ignore[method-assign]
    assert world.zendesk.updates[0][1].internal_note.splitlines()[-1] == "(Escalink ref sync 1)"
    restarted = InboundSync(world.store, world.zendesk, world.jira, load_policy().sync, coalesce_seconds=5)
    report = restarted.process_pending(now=datetime.now(UTC) + timedelta(seconds=60))
    assert len(world.zendesk.updates) == 1 and report.ignored == 1 and report.processed == 0


# --- changes found by reconciliation ------------------------------------------------------------


@dataclass
class OneIssueJira:
    """Jira's "updated since" search, answering one issue whose history holds one status change."""

    history_id: str
    author: JiraPerson

    def updated_since(self, since: datetime, *, limit: int = 500, project_key: str | None = None
                      ) -> list[IssueActivity]:
        moment = datetime.now(UTC) - timedelta(minutes=1)
        who = ActivityUser(self.author.account_id, None, self.author.display_name)
        item = ChangeItem("status", "status", "jira", "3", "In Progress", "10002", "Done")
        return [IssueActivity("10001", "ESCA-1", moment, "Done", changes=(ChangeActivity(self.history_id, who, moment,
                                                                                          (item,)),))]


def reconcile(world: World, history_id: str, author: JiraPerson = ENGINEER) -> int:
    jira = OneIssueJira(history_id, author)
    report = Reconciler(jira, world.store, project_key="ESCA", clock=lambda: datetime.now(UTC),
                        overlap=timedelta(minutes=5)).run()
    return report.changes_recorded


def status_webhook(world: World, history_id: str) -> None:
    hook = jira_change_webhook(issue_id="10001", issue_key="ESCA-1", changes=[("status", "In Progress", "Done")],
                               secret=SECRET, changelog_id=history_id)
    assert world.sync.accept_jira(hook.body, hook.headers).stored


@pytest.mark.parametrize("webhook_first", [True, False], ids=["webhook then reconciliation", "the other way round"])
def test_a_change_brought_by_webhook_and_by_reconciliation_is_noted_once(world: World, webhook_first: bool) -> None:
    if webhook_first:
        status_webhook(world, "30001")
        world.process()
        assert reconcile(world, "30001") == 1  # stored: the processor knows it was noted
    else:
        assert reconcile(world, "30001") == 1
        world.process()
        status_webhook(world, "30001")  # the late real delivery
    report = world.process(after=12)
    assert (report.ignored, report.processed) == (1, 0)
    [(ticket, update)] = world.zendesk.updates
    assert ticket == 104 and update.status == "open"  # the status change reopened the ticket, once
    assert update.internal_note.count('changed status: "In Progress" → "Done"') == 1
    assert "(Escalink refs: 10001/30001/changed)" in update.internal_note
    assert world.store.noted_comments(104, [("10001", "30001", "changed")])


def test_a_change_arriving_twice_in_one_batch_is_noted_once_and_other_changes_still_are(world: World) -> None:
    status_webhook(world, "30001")
    assert reconcile(world, "30001") == 1
    status_webhook(world, "30002")  # another change of the same issue, same text
    assert world.process().processed == 3  # all three answered by the one note
    [(_, update)] = world.zendesk.updates
    assert update.internal_note.count('changed status: "In Progress" → "Done"') == 2
    assert "(Escalink refs: 10001/30001/changed 10001/30002/changed)" in update.internal_note


def test_escalink_own_change_found_by_reconciliation_is_dropped(world: World) -> None:
    assert reconcile(world, "30003", author=OWN) == 1
    assert world.process().ignored == 1
    assert world.zendesk.updates == []
