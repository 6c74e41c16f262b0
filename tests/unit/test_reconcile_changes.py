"""Reconciler and field changes: which history entries become synthesized `jira:issue_updated` webhooks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from reconcile_fakes import (
    CURSOR,
    FIXTURES,
    LINKED_AT,
    NOW,
    OWN,
    FakeJira,
    FakeStore,
    change,
    comment,
    issue,
    reconciler,
    with_cursor,
)

from escalink.adapters.jira.webhook import parse_jira_webhook
from escalink.domain.activity import ActivityUser, ChangeActivity, ChangeItem, IssueActivity
from escalink.domain.events import IssueChanged
from escalink.services.reconcile import issue_updated_webhook
from escalink.services.sync_policy import drop_echoes


@dataclass(frozen=True)
class Case:
    name: str
    created: datetime  # of the one history entry on issue 10001
    linked: bool = True
    linked_at: datetime = LINKED_AT
    items: bool = True
    recorded: bool = True
    too_old: bool = False


CASES = [
    Case("after the cursor", CURSOR + timedelta(minutes=10)),
    Case("inside the overlap before the cursor", CURSOR - timedelta(minutes=4)),
    Case("older than the cursor minus overlap", CURSOR - timedelta(minutes=6), recorded=False, too_old=True),
    Case("unlinked issue", CURSOR + timedelta(minutes=10), linked=False, recorded=False),
    Case("made before the issue was linked", CURSOR + timedelta(minutes=10),
         linked_at=CURSOR + timedelta(minutes=20), recorded=False, too_old=True),
    Case("linked moments after the change (clock skew within overlap)", CURSOR + timedelta(minutes=10),
         linked_at=CURSOR + timedelta(minutes=12)),
    Case("a history without items says nothing", CURSOR + timedelta(minutes=10), items=False, recorded=False),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_which_changes_become_events(case: Case) -> None:
    entry = change("30001", case.created)
    if not case.items:
        entry = ChangeActivity("30001", entry.author, entry.created, ())
    jira = FakeJira([issue("10001", CURSOR + timedelta(minutes=30), changes=(entry,))])
    store = with_cursor(FakeStore())
    if case.linked:
        store.link("10001", at=case.linked_at)
    report = reconciler(jira, store).run()
    assert list(store.inbound) == (["reconcile:change:10001:30001"] if case.recorded else [])
    assert (report.changes_recorded, report.changes_too_old) == (int(case.recorded), int(case.too_old))
    assert report.comments_recorded == report.changes_known == report.changes_cut == 0


def test_the_stored_change_reads_like_the_webhook() -> None:
    created = CURSOR + timedelta(minutes=2)
    jira = FakeJira([issue("10001", created, comment("30001", created), changes=(change("30001", created),))])
    store = with_cursor(FakeStore())
    store.link("10001", ticket_id=101)
    store.link("10001", ticket_id=102)  # one delivery per change: the processor fans out to tickets
    report = reconciler(jira, store).run()
    # A comment and a history entry may share a number: they are different deliveries.
    assert set(store.inbound) == {"reconcile:comment:10001:30001", "reconcile:change:10001:30001"}
    assert (report.comments_recorded, report.changes_recorded) == (1, 1)
    record = store.inbound["reconcile:change:10001:30001"]
    assert (record["source"], record["event_type"], record["issue_id"], record["ticket_id"]) == (
        "jira", "jira:issue_updated", "10001", None)
    event = parse_jira_webhook(record["payload"], {}).event
    assert isinstance(event, IssueChanged)
    assert (event.issue_id, event.issue_key, event.changelog_id, event.timestamp) == (
        "10001", "ESCA-01", "30001", created)
    assert (event.actor_account, event.actor_display) == ("712020:engineer", "Jordan Pike")
    assert [(c.category, c.from_string, c.to_string) for c in event.changes] == [("status", "In Progress", "Resolved")]


def test_a_change_stored_once_is_known_on_the_next_run() -> None:
    jira = FakeJira([issue("10001", CURSOR + timedelta(minutes=1), changes=(change("30001", CURSOR),))])
    store = with_cursor(FakeStore())
    store.link("10001")
    assert reconciler(jira, store).run().changes_recorded == 1
    again = reconciler(jira, store).run()  # the overlap brings the same issue back
    assert (again.changes_recorded, again.changes_known) == (0, 1)
    assert len(store.inbound) == 1


def test_escalink_own_change_is_stored_as_jira_wrote_it_and_dropped_as_an_echo() -> None:
    mine = change("30002", CURSOR + timedelta(minutes=1), ChangeItem("Attachment", "attachment", "jira", None, None,
                                                                     "10200", "screenshot.png"), author=OWN)
    jira = FakeJira([issue("10001", CURSOR + timedelta(minutes=1), changes=(mine,))])
    store = with_cursor(FakeStore())
    store.link("10001")
    reconciler(jira, store).run()
    event = parse_jira_webhook(store.inbound["reconcile:change:10001:30002"]["payload"], {}).event
    assert isinstance(event, IssueChanged) and event.actor_account == OWN.account_id
    assert drop_echoes(event, OWN.account_id or "") == (None, "own_change")


@pytest.mark.parametrize(("oldest", "cut"), [(CURSOR + timedelta(minutes=1), 1), (CURSOR - timedelta(hours=2), 0)])
def test_a_history_jira_cut_inside_the_window_is_reported_once(oldest: datetime, cut: int) -> None:
    # Cloud sends only the latest entries: when the oldest one sent is inside the window, some may be missing.
    entries = (change("30001", oldest), change("30002", CURSOR + timedelta(minutes=2)))
    cut_issue = issue("10001", CURSOR + timedelta(minutes=3), changes=entries, complete=False)
    other = issue("10002", CURSOR + timedelta(minutes=3))
    jira = FakeJira([cut_issue, other])
    store = with_cursor(FakeStore())
    store.link("10001")
    report = reconciler(jira, store, batch_size=2).run()  # the full batch brings both issues back once more
    assert report.batches == 2 and report.changes_cut == cut
    assert report.changes_recorded == 1 + cut == len(store.inbound)  # an entry before the window is too old


# --- the synthesized body -----------------------------------------------------------------------


def real_change(name: str) -> tuple[dict[str, object], IssueActivity]:
    """A recorded webhook, and the issue activity whose history holds the same change."""
    real = json.loads((FIXTURES / name).read_bytes())
    user = real["user"]
    author = ActivityUser(user.get("accountId"), user.get("name"), user.get("displayName"))
    items = tuple(ChangeItem(i["field"], i.get("fieldId"), i.get("fieldtype"), i.get("from"), i.get("fromString"),
                             i.get("to"), i.get("toString")) for i in real["changelog"]["items"])
    created = datetime.fromtimestamp(real["timestamp"] / 1000, tz=UTC)
    entry = ChangeActivity(real["changelog"]["id"], author, created, items)
    activity = IssueActivity(issue_id=real["issue"]["id"], key=real["issue"]["key"], updated=created, status="Done",
                             url=real["issue"]["self"], changes=(entry,))
    return real, activity


@pytest.mark.parametrize("name", ["webhook-issue-updated-resolved.json", "webhook-server-issue-updated-resolved.json",
                                  "webhook-cloud-issue-updated-custom-field.json",
                                  "webhook-issue-updated-assigned-on-server.json"])
def test_body_parses_like_the_real_delivery(name: str) -> None:
    real, activity = real_change(name)
    body = issue_updated_webhook(activity, activity.changes[0])
    assert body["timestamp"] == real["timestamp"]
    assert body["changelog"] == real["changelog"]  # id and items exactly as Jira sent them
    ours = parse_jira_webhook(json.dumps(body).encode(), {})
    theirs = parse_jira_webhook(json.dumps(real).encode(), {})
    assert ours.event == theirs.event
    assert ours.event_name == theirs.event_name == "jira:issue_updated"


def test_a_change_without_author_has_no_user() -> None:
    anonymous = change("30003", NOW, author=None)
    body = issue_updated_webhook(issue("10001", NOW, changes=(anonymous,)), anonymous)
    assert "user" not in body
    event = parse_jira_webhook(json.dumps(body).encode(), {}).event
    assert isinstance(event, IssueChanged) and event.actor_account is None
    assert drop_echoes(event, OWN.account_id or "") == (event, None)  # not mistaken for Escalink's own
