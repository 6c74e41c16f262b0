"""Reconciler: which comments become synthesized webhooks, batches, the cursor, and the body's shape.

Field changes (history entries) are in test_reconcile_changes.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from reconcile_fakes import (
    CURSOR,
    ENGINEER,
    FIXTURES,
    LINKED_AT,
    NOW,
    OVERLAP,
    OWN,
    FakeJira,
    FakeStore,
    comment,
    issue,
    reconciler,
    with_cursor,
)

from escalink.adapters.jira.webhook import parse_jira_webhook
from escalink.domain.activity import ActivityUser, CommentActivity, IssueActivity
from escalink.domain.events import CommentEvent
from escalink.services.reconcile import Reconciler, comment_created_webhook, jira_timestamp
from escalink.services.sync_policy import drop_echoes

# --- which comments are taken ---------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    created: datetime  # of the one comment on issue 10001
    linked: bool = True
    linked_at: datetime = LINKED_AT
    recorded: bool = True


CASES = [
    Case("after the cursor", CURSOR + timedelta(minutes=10)),
    Case("inside the overlap before the cursor", CURSOR - timedelta(minutes=4)),
    Case("older than the cursor minus overlap", CURSOR - timedelta(minutes=6), recorded=False),
    Case("unlinked issue", CURSOR + timedelta(minutes=10), linked=False, recorded=False),
    Case("made before the issue was linked", CURSOR + timedelta(minutes=10),
         linked_at=CURSOR + timedelta(minutes=20), recorded=False),
    Case("linked moments after the comment (clock skew within overlap)", CURSOR + timedelta(minutes=10),
         linked_at=CURSOR + timedelta(minutes=12)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_which_comments_become_events(case: Case) -> None:
    jira = FakeJira([issue("10001", CURSOR + timedelta(minutes=30), comment("20001", case.created))])
    store = with_cursor(FakeStore())
    if case.linked:
        store.link("10001", at=case.linked_at)
    report = reconciler(jira, store).run()
    assert list(store.inbound) == (["reconcile:comment:10001:20001"] if case.recorded else [])
    assert report.comments_recorded == int(case.recorded)
    assert report.linked_issues == int(case.linked)
    # Seen issues move the cursor whether or not anything was recorded.
    assert store.cursors["reconcile:jira:ESCA"] == CURSOR + timedelta(minutes=30)


def test_record_fields_and_one_event_per_comment_across_tickets() -> None:
    jira = FakeJira([issue("10001", CURSOR + timedelta(minutes=3),
                           comment("20001", CURSOR + timedelta(minutes=1)),
                           comment("20002", CURSOR + timedelta(minutes=2), author=OWN))])
    store = with_cursor(FakeStore())
    store.link("10001", ticket_id=101)
    store.link("10001", ticket_id=102)  # one delivery per comment: the processor fans out to tickets
    reconciler(jira, store).run()
    assert set(store.inbound) == {"reconcile:comment:10001:20001", "reconcile:comment:10001:20002"}
    for record in store.inbound.values():
        assert (record["source"], record["event_type"], record["issue_id"], record["ticket_id"]) == (
            "jira", "comment_created", "10001", None)
        assert isinstance(record["payload"], bytes)
    # Escalink's own comment is stored too, as Jira wrote it: the processor drops it as an echo.
    own = parse_jira_webhook(store.inbound["reconcile:comment:10001:20002"]["payload"], {}).event
    assert isinstance(own, CommentEvent) and own.author_account == OWN.account_id
    assert drop_echoes(own, OWN.account_id or "") == (None, "own_change")


# --- cursor -------------------------------------------------------------------------------------


def test_first_run_looks_back_and_sets_the_cursor() -> None:
    jira = FakeJira([issue("10001", NOW - timedelta(hours=2), comment("20001", NOW - timedelta(hours=2)))])
    store = FakeStore()
    store.link("10001")
    report = reconciler(jira, store, initial_lookback=timedelta(hours=6)).run()
    assert jira.calls[0] == (NOW - timedelta(hours=6) - OVERLAP, 500, "ESCA")
    assert report.cursor_before is None and report.cursor_after == NOW - timedelta(hours=2)
    assert store.cursors == {"reconcile:jira:ESCA": NOW - timedelta(hours=2)}
    assert report.comments_recorded == 1


def test_cursor_never_moves_back_and_stays_without_activity() -> None:
    store = with_cursor(FakeStore())
    # Only an issue from the overlap comes back: it is older than the cursor.
    report = reconciler(FakeJira([issue("10001", CURSOR - timedelta(minutes=2))]), store).run()
    assert store.cursors["reconcile:jira:ESCA"] == CURSOR and report.cursor_after == CURSOR
    report = reconciler(FakeJira([]), store).run()
    assert store.cursors["reconcile:jira:ESCA"] == CURSOR and report.issues_seen == 0
    assert report.batches == 1


def test_cursor_waits_until_every_record_is_stored() -> None:
    jira = FakeJira([
        issue("10001", CURSOR + timedelta(minutes=1), comment("20001", CURSOR + timedelta(minutes=1))),
        issue("10002", CURSOR + timedelta(minutes=2), comment("20002", CURSOR + timedelta(minutes=2))),
    ])
    store = with_cursor(FakeStore(fail_after=1))
    store.link("10001")
    store.link("10002")
    with pytest.raises(RuntimeError):
        reconciler(jira, store).run()
    assert store.cursors["reconcile:jira:ESCA"] == CURSOR  # not advanced past the failure
    store.fail_after = None
    report = reconciler(jira, store).run()
    assert (report.comments_recorded, report.comments_known) == (1, 1)  # the repeat is a replay
    assert store.cursors["reconcile:jira:ESCA"] == CURSOR + timedelta(minutes=2)


def test_second_run_replays_nothing_new() -> None:
    jira = FakeJira([issue("10001", CURSOR + timedelta(minutes=1), comment("20001", CURSOR + timedelta(minutes=1)))])
    store = with_cursor(FakeStore())
    store.link("10001")
    assert reconciler(jira, store).run().comments_recorded == 1
    again = reconciler(jira, store).run()  # the overlap brings the same issue back
    assert (again.comments_recorded, again.comments_known) == (0, 1)
    assert len(store.inbound) == 1


# --- batches --------------------------------------------------------------------------------------


def spread(count: int, step: timedelta = timedelta(minutes=10)) -> list[IssueActivity]:
    return [
        issue(f"100{n:02d}", CURSOR + step * (n + 1), comment(f"200{n:02d}", CURSOR + step * (n + 1)))
        for n in range(count)
    ]


def test_batches_continue_from_the_newest_update_seen() -> None:
    jira = FakeJira(spread(5))
    store = with_cursor(FakeStore())
    for i in jira.issues:
        store.link(i.issue_id)
    report = reconciler(jira, store, batch_size=3).run()
    assert report.batches == 3 and not report.truncated and not report.stalled
    # Each batch starts at the newest update of the one before, which therefore comes back too.
    assert [since for since, _, _ in jira.calls] == [
        CURSOR - OVERLAP, CURSOR + timedelta(minutes=30), CURSOR + timedelta(minutes=50)
    ]
    assert report.issues_seen == 7
    assert (report.comments_recorded, report.comments_known) == (5, 0)  # the repeats are not stored twice
    assert len(store.inbound) == 5
    assert store.cursors["reconcile:jira:ESCA"] == CURSOR + timedelta(minutes=50)


def test_max_batches_truncates_and_the_next_run_goes_on() -> None:
    jira = FakeJira(spread(6))
    store = with_cursor(FakeStore())
    for i in jira.issues:
        store.link(i.issue_id)
    first = reconciler(jira, store, batch_size=3, max_batches=2).run()
    assert first.truncated and first.comments_recorded == 5
    assert store.cursors["reconcile:jira:ESCA"] == CURSOR + timedelta(minutes=50)
    second = reconciler(jira, store, batch_size=3, max_batches=2).run()
    assert not second.truncated and (second.comments_recorded, second.comments_known) == (1, 1)
    assert len(store.inbound) == 6


def test_full_batch_of_one_moment_is_reported_as_stalled() -> None:
    same = CURSOR + timedelta(minutes=1)
    jira = FakeJira([issue(f"100{n:02d}", same) for n in range(3)])
    report = reconciler(jira, with_cursor(FakeStore()), batch_size=2).run()
    assert report.stalled and report.batches == 2


# --- the synthesized body -----------------------------------------------------------------------


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_body_parses_like_the_real_cloud_delivery() -> None:
    real = json.loads(load("webhook-cloud-comment-created.json"))
    raw = real["comment"]
    created = datetime.fromisoformat(raw["created"])
    activity = IssueActivity(
        issue_id="10040", key="TES-41", updated=created, status="To Do", summary="Unit test summary 1",
        comments=(CommentActivity(
            id="10019", author=ActivityUser(raw["author"]["accountId"], None, "Test User"), created=created,
            updated=created, body=raw["body"], url=raw["self"],
            update_author=ActivityUser(raw["updateAuthor"]["accountId"], None, "Test User"),
        ),),
    )
    body = comment_created_webhook(activity, activity.comments[0])
    assert body["timestamp"] == real["timestamp"] and body["comment"]["created"] == raw["created"]
    ours = parse_jira_webhook(json.dumps(body).encode(), {})
    theirs = parse_jira_webhook(json.dumps(real).encode(), {})
    assert ours.event == theirs.event
    assert (ours.event_name, ours.event_type) == (theirs.event_name, theirs.event_type)


def test_body_parses_like_the_real_data_center_delivery() -> None:
    real = json.loads(load("webhook-server-comment-created.json"))
    raw = real["comment"]
    created = datetime.fromisoformat(raw["created"])
    author = ActivityUser(None, raw["author"]["name"], raw["author"]["displayName"])
    activity = issue("10013", created, CommentActivity(
        id="10082", author=author, created=created, updated=created, body=raw["body"], update_author=author,
        url=raw["self"],
    ), key="SRV-1")
    ours = parse_jira_webhook(json.dumps(comment_created_webhook(activity, activity.comments[0])).encode(), {})
    theirs = parse_jira_webhook(json.dumps(real).encode(), {})
    # Data Center's own delivery has no issue object, so it cannot name the key; ours can.
    assert isinstance(ours.event, CommentEvent) and ours.event.issue_key == "SRV-1"
    assert replace(ours.event, issue_key=None) == theirs.event


def test_adf_body_restricted_comment_and_edit_survive() -> None:
    adf = {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "Fixed in build 4.2"}]}]}
    created = datetime(2024, 5, 6, 9, 30, 15, 123000, tzinfo=UTC)
    editor = ActivityUser("712020:lead", None, "Avery Lin")
    c = CommentActivity(
        id="20001", author=ENGINEER, created=created, updated=created + timedelta(minutes=3), body=adf,
        update_author=editor, visibility={"type": "role", "value": "Developers"}, jsd_public=False,
    )
    body = comment_created_webhook(issue("10001", created, c), c)
    assert body["comment"]["body"] == adf  # as Jira gave it, not flattened
    event = parse_jira_webhook(json.dumps(body).encode(), {}).event
    assert isinstance(event, CommentEvent)
    assert (event.kind, event.issue_id, event.issue_key, event.comment_id) == ("created", "10001", "ESCA-01", "20001")
    assert (event.author_account, event.author_display) == (ENGINEER.account_id, "Jordan Pike")
    assert (event.actor_account, event.body, event.visibility) == (ENGINEER.account_id, "Fixed in build 4.2",
                                                                    "role:Developers")
    assert (event.created, event.updated) == (created, created + timedelta(minutes=3))


def test_jira_timestamp_keeps_offset_and_milliseconds() -> None:
    moment = datetime.fromisoformat("2019-02-15T19:11:18.321-0800")
    assert jira_timestamp(moment) == "2019-02-15T19:11:18.321-0800"
    assert jira_timestamp(datetime(2024, 1, 2, 3, 4, 5, 6789, tzinfo=UTC)) == "2024-01-02T03:04:05.006+0000"


def test_negative_overlap_is_refused() -> None:
    with pytest.raises(ValueError):
        Reconciler(FakeJira([]), FakeStore(), project_key="ESCA", clock=lambda: NOW, overlap=timedelta(minutes=-1))
