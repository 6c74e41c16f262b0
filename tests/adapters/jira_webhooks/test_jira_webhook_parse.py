"""Every recorded Jira webhook body, and what Escalink makes of it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from escalink.adapters.jira.webhook import adf_to_text, categorize_field, parse_jira_webhook
from escalink.domain.events import (
    CommentEvent,
    Ignored,
    IssueChanged,
    IssueDeleted,
    JiraEvent,
    WebhookPayloadError,
)

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass(frozen=True)
class Expect:
    event: type[JiraEvent]
    issue_id: str | None = None
    key: str | None = None
    categories: tuple[str, ...] = ()  # one per changelog item, in order
    comment_id: str | None = None
    kind: str | None = None
    reason: str | None = None  # a phrase of Ignored.reason


def changed(issue_id: str, key: str, *categories: str) -> Expect:
    return Expect(IssueChanged, issue_id, key, categories)


def comment(kind: str, issue_id: str, key: str | None, comment_id: str | None) -> Expect:
    return Expect(CommentEvent, issue_id, key, comment_id=comment_id, kind=kind)


CREATED = Expect(Ignored, reason="issue created")

DECISIONS: dict[str, Expect] = {
    "webhook-cloud-comment-created-mention-user.json": comment("created", "10040", "TES-41", "10019"),
    "webhook-cloud-comment-created.json": comment("created", "10040", "TES-41", "10019"),
    "webhook-cloud-comment-deleted.json": comment("deleted", "10357", "KT-7", "10757"),
    "webhook-cloud-issue-updated-custom-field.json": changed("10368", "TES-14", "other"),
    "webhook-issue-assigned-empty-changelog.json": changed("10001", "TEST-123", "assignee"),
    "webhook-issue-comment-created-indentation.json": comment("created", "10101", "TEST-4", "10503"),
    "webhook-issue-created-no-description-nor-relevant-fields.json": CREATED,
    "webhook-issue-created-no-description.json": CREATED,
    "webhook-issue-created-no-relevant-fields.json": CREATED,
    "webhook-issue-created.json": CREATED,
    "webhook-issue-deleted.json": Expect(IssueDeleted, "10303", "IDT-19"),
    "webhook-issue-updated-assigned-nobody.json": changed("10040", "TES-41", "assignee"),
    "webhook-issue-updated-assigned-on-server.json": changed("10226", "PRJA-37", "assignee"),
    "webhook-issue-updated-assigned.json": changed("10040", "TES-41", "assignee"),
    "webhook-issue-updated-attachments.json": changed("10040", "TES-41", "other"),
    "webhook-issue-updated-components.json": changed("10360", "TES-10", "other"),
    "webhook-issue-updated-edited.json": changed("10040", "TES-41", "other"),
    "webhook-issue-updated-fix-version.json": changed("10040", "TES-41", "other"),
    "webhook-issue-updated-issue-type.json": changed("10040", "TES-41", "other"),
    "webhook-issue-updated-labels.json": changed("10040", "TES-41", "labels"),
    "webhook-issue-updated-lowered-priority.json": changed("10040", "TES-41", "priority"),
    "webhook-issue-updated-multiple-custom-fields.json": changed("10040", "TES-41", "other", "other"),
    "webhook-issue-updated-raised-priority.json": changed("10040", "TES-41", "priority"),
    "webhook-issue-updated-rank.json": changed("10040", "TES-41", "rank"),
    "webhook-issue-updated-renamed.json": changed("10040", "TES-41", "other"),
    "webhook-issue-updated-reopened.json": changed("10040", "TES-41", "resolution", "status"),
    "webhook-issue-updated-resolved-one-changelog.json": changed("10040", "TES-41", "resolution"),
    "webhook-issue-updated-resolved.json": changed("10040", "TES-41", "resolution", "status"),
    "webhook-issue-updated-sprint.json": changed("10040", "TES-41", "sprint"),
    # Server comment events carry no issue: the id comes from comment.self, the key is unknown.
    "webhook-server-comment-created.json": comment("created", "10013", None, "10082"),
    "webhook-server-comment-updated.json": comment("updated", "10013", None, "10084"),
    "webhook-server-issue-updated-closed.json": changed("10300", "TES-4", "status"),
    # Server names no comment when one is deleted.
    "webhook-server-issue-updated-comment-deleted.json": comment("deleted", "10013", "PRJX-14", None),
    "webhook-server-issue-updated-comment-edited.json": comment("updated", "10013", "PRJX-14", "10084"),
    "webhook-server-issue-updated-commented-1.json": comment("created", "10013", "PRJX-14", "10082"),
    "webhook-server-issue-updated-commented-2.json": comment("created", "10231", "PRJA-42", "10118"),
    "webhook-server-issue-updated-commented-mention-user.json": comment("created", "10013", "PRJX-14", "10082"),
    "webhook-server-issue-updated-in-progress.json": changed("10300", "TES-4", "status"),
    "webhook-server-issue-updated-many-fields.json": changed("10400", "HEY-15", "labels"),
    "webhook-server-issue-updated-reopened.json": changed("10300", "TES-4", "resolution", "status"),
    "webhook-server-issue-updated-resolved.json": changed("10300", "TES-4", "status", "resolution"),
    # Old Server: no event type, no changelog, no comment -- nothing says what happened.
    "webhook-server-old-issue-updated-no-event-type-comment-deleted.json": Expect(
        Ignored, reason="without changelog items or comment"
    ),
    "webhook-server-old-issue-updated-no-event-type-edited.json": changed("10040", "TES-41", "other"),
    "zulip-attachment_created.json": Expect(Ignored, reason="attachments"),
}


def load(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((FIXTURES / name).read_bytes())
    return payload


def parse(payload: dict[str, Any], headers: dict[str, str] | None = None) -> JiraEvent:
    return parse_jira_webhook(json.dumps(payload).encode(), headers or {}).event


def test_the_table_covers_every_fixture() -> None:
    assert set(DECISIONS) == {p.name for p in FIXTURES.glob("*.json")}


@pytest.mark.parametrize("name", sorted(DECISIONS))
def test_decision(name: str) -> None:
    expect = DECISIONS[name]
    delivery = parse_jira_webhook((FIXTURES / name).read_bytes(), {})
    event = delivery.event
    assert type(event) is expect.event
    assert delivery.event_name == load(name)["webhookEvent"]
    if isinstance(event, Ignored):
        assert expect.reason and expect.reason in event.reason
        return
    assert event.issue_id == expect.issue_id
    assert event.issue_key == expect.key
    if isinstance(event, IssueChanged):
        assert tuple(c.category for c in event.changes) == expect.categories
        assert event.previous_key is None
        assert event.timestamp is not None and event.timestamp.tzinfo is not None
    if isinstance(event, CommentEvent):
        assert event.kind == expect.kind
        assert event.comment_id == expect.comment_id


def test_cloud_comment_fields() -> None:
    event = parse(load("webhook-cloud-comment-created.json"))
    assert isinstance(event, CommentEvent)
    assert event.body == "Added a comment"
    assert event.author_account == "5c5f880629be9642ba529340"
    assert event.author_display and event.actor_account == event.author_account
    assert event.created == datetime(2019, 2, 15, 19, 11, 18, 321000, tzinfo=timezone(timedelta(hours=-8)))
    assert event.updated == event.created


def test_server_comment_uses_user_names_and_keeps_wiki_markup() -> None:
    event = parse(load("webhook-issue-comment-created-indentation.json"))
    assert isinstance(event, CommentEvent)
    assert event.author_account == "test"  # Server has no accountId: the user name stands in
    assert event.body.startswith("[~Test] creating a test comment\r\n")


def test_actor_of_comment_events_without_user() -> None:
    created = parse(load("webhook-server-comment-created.json"))
    assert isinstance(created, CommentEvent) and created.actor_account == "rquill"
    deleted = parse(load("webhook-cloud-comment-deleted.json"))
    # The comment names its author, not who deleted it.
    assert isinstance(deleted, CommentEvent) and deleted.actor_account is None
    updated = parse(load("webhook-server-comment-updated.json"))
    assert isinstance(updated, CommentEvent) and updated.actor_display == "Riley Quill"


def test_change_values_and_actor() -> None:
    event = parse(load("webhook-issue-updated-resolved.json"))
    assert isinstance(event, IssueChanged)
    status = next(c for c in event.changes if c.category == "status")
    assert (status.from_string, status.to_string, status.field_id) == ("In Progress", "Done", "status")
    assert event.actor_account == "5c5f880629be9642ba529340" and event.actor_display == "Test User"
    assert event.timestamp == datetime.fromtimestamp(1550286940.507, tz=UTC)
    assert event.categories() == {"resolution", "status"}


@pytest.mark.parametrize("name", sorted(n for n, e in DECISIONS.items() if e.event is IssueChanged))
def test_the_history_id_of_a_change_is_kept(name: str) -> None:
    # changelog.id is the id of the issue's history entry: reconciliation finds the same change by it.
    event = parse(load(name))
    assert isinstance(event, IssueChanged)
    raw = load(name).get("changelog")
    assert event.changelog_id == (str(raw["id"]) if isinstance(raw, dict) and "id" in raw else None)


@pytest.mark.parametrize(("raw_id", "expected"), [(10228, "10228"), ("10228", "10228"), ("x1", None), (True, None),
                                                  (None, None)])
def test_history_id_shapes(raw_id: object, expected: str | None) -> None:
    payload = load("webhook-issue-updated-resolved.json")
    payload["changelog"]["id"] = raw_id
    event = parse(payload)
    assert isinstance(event, IssueChanged) and event.changelog_id == expected


def test_empty_assignment_changelog_takes_the_assignee_from_the_issue() -> None:
    event = parse(load("webhook-issue-assigned-empty-changelog.json"))
    assert isinstance(event, IssueChanged)
    (change,) = event.changes
    assert (change.from_string, change.to_string) == (None, "John Doe")


def test_issue_moved_to_another_project_keeps_id_and_reports_old_key() -> None:
    payload = load("webhook-issue-updated-renamed.json")
    payload["issue_event_type_name"] = "issue_moved"
    payload["issue"]["key"] = "ESCA-7"
    payload["changelog"]["items"] = [
        {"field": "project", "fieldtype": "jira", "fieldId": "project", "from": "10000",
         "fromString": "Test", "to": "10100", "toString": "Support Escalations"},
        {"field": "Key", "fieldtype": "jira", "from": None, "fromString": "TES-41", "to": None, "toString": "ESCA-7"},
    ]  # fmt: skip
    event = parse(payload)
    assert isinstance(event, IssueChanged)
    assert (event.issue_id, event.issue_key, event.previous_key) == ("10040", "ESCA-7", "TES-41")
    assert [c.category for c in event.changes] == ["other", "other"]


def test_transition_with_a_comment_reports_both() -> None:
    payload = load("webhook-issue-updated-resolved.json")
    payload["comment"] = load("webhook-cloud-comment-created.json")["comment"]
    event = parse(payload)
    assert isinstance(event, IssueChanged)
    assert event.categories() == {"resolution", "status"}
    assert event.comment is not None
    assert (event.comment.kind, event.comment.comment_id, event.comment.issue_key) == ("created", "10019", "TES-41")


def test_old_server_comment_edit_is_told_apart_by_its_dates() -> None:
    payload = load("webhook-server-issue-updated-comment-edited.json")
    del payload["issue_event_type_name"]
    event = parse(payload)
    assert isinstance(event, CommentEvent) and event.kind == "updated"
    payload = load("webhook-server-issue-updated-commented-1.json")
    del payload["issue_event_type_name"]
    event = parse(payload)
    assert isinstance(event, CommentEvent) and event.kind == "created"


def test_rich_text_comment_is_flattened() -> None:
    payload = load("webhook-cloud-comment-created.json")
    payload["comment"]["body"] = {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [
                {"type": "text", "text": "Hi "},
                {"type": "mention", "attrs": {"id": "abc", "text": "@Riley Quill"}},
                {"type": "hardBreak"},
                {"type": "text", "text": "see", "marks": [{"type": "strong"}]},
                {"type": "text", "text": " "},
                {"type": "inlineCard", "attrs": {"url": "https://example.com/x"}},
            ]},
            {"type": "orderedList", "content": [
                {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "one"}]}]},
                {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "two"}]}]},
            ]},
            {"type": "mediaSingle", "content": [{"type": "media", "attrs": {"alt": "shot.png"}}]},
        ],
    }  # fmt: skip
    event = parse(payload)
    assert isinstance(event, CommentEvent)
    assert event.body == "Hi @Riley Quill\nsee https://example.com/x\n\n1. one\n2. two\n\n[attachment: shot.png]"


def test_adf_flattening_odd_shapes() -> None:
    assert adf_to_text({"type": "doc", "content": []}) == ""
    assert adf_to_text("not a document") == ""
    quote = {"type": "blockquote", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "a"}]}]}
    table = {"type": "table", "content": [{"type": "tableRow", "content": [
        {"type": "tableCell", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "k"}]}]},
        {"type": "tableCell", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "v"}]}]},
    ]}]}  # fmt: skip
    nested = {"type": "bulletList", "content": [{"type": "listItem", "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "top"}]},
        {"type": "bulletList", "content": [{"type": "listItem", "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "inner"}]}]}]},
    ]}]}  # fmt: skip
    doc = {"type": "doc", "content": [quote, {"type": "rule"}, table, nested]}
    assert adf_to_text(doc) == "> a\n\n---\n\nk | v\n\n- top\n  - inner"
    deep: dict[str, Any] = {"type": "text", "text": "bottom"}
    for _ in range(500):
        deep = {"type": "paragraph", "content": [deep]}
    assert adf_to_text({"type": "doc", "content": [deep]}) == ""  # cut off, not a RecursionError


def test_restricted_comment_visibility() -> None:
    payload = load("webhook-cloud-comment-created.json")
    payload["comment"]["visibility"] = {"type": "role", "value": "Developers"}
    event = parse(payload)
    assert isinstance(event, CommentEvent) and event.visibility == "role:Developers"


def test_delivery_id_header_is_read_case_insensitively() -> None:
    body = (FIXTURES / "webhook-issue-deleted.json").read_bytes()
    assert parse_jira_webhook(body, {"x-atlassian-webhook-identifier": "d-1"}).delivery_id == "d-1"
    assert parse_jira_webhook(body, {"X-Atlassian-Webhook-Identifier": "d-2"}).delivery_id == "d-2"
    delivery = parse_jira_webhook((FIXTURES / "webhook-issue-updated-assigned.json").read_bytes(), {})
    assert delivery.delivery_id is None
    assert delivery.event_type == "issue_assigned"


def test_unknown_events_are_ignored_with_a_reason() -> None:
    event = parse({"webhookEvent": "sprint_started", "timestamp": 1})
    assert isinstance(event, Ignored) and "sprint_started" in event.reason


@pytest.mark.parametrize(
    ("body", "phrase"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b"{}", "webhookEvent"),
        (b'{"unrelated": true}', "webhookEvent"),
        (b'{"webhookEvent": "jira:issue_updated"}', "no 'issue' object"),
        (b'{"webhookEvent": "jira:issue_deleted", "issue": {"id": "1"}}', "issue.key"),
        (b'{"webhookEvent": "comment_created"}', "no 'comment' object"),
        (b'{"webhookEvent": "comment_created", "comment": {"id": "5", "self": "http://x/y"}}', "comment URL"),
        (b'{"webhookEvent": "jira:issue_updated", "issue": {"id": "1", "key": "A-1"}, "changelog": []}', "changelog"),
        (b"[" * 100_000, "not valid JSON"),
    ],
)
def test_malformed_payloads_raise_a_clear_error(body: bytes, phrase: str) -> None:
    with pytest.raises(WebhookPayloadError) as info:
        parse_jira_webhook(body, {})
    assert phrase in str(info.value)
    assert info.value.status == 400


def test_errors_never_quote_comment_bodies() -> None:
    payload = load("webhook-cloud-comment-created.json")
    payload["comment"]["body"] = ["Member DOB 1980-01-02"]
    payload["comment"]["id"] = "Member DOB 1980-01-02"
    payload["comment"]["self"] = "Member DOB 1980-01-02"
    with pytest.raises(WebhookPayloadError) as info:
        parse(payload)
    assert "1980" not in str(info.value) and "DOB" not in repr(info.value)


@pytest.mark.parametrize(
    ("field", "field_id", "field_type", "category"),
    [
        ("Status", "status", "jira", "status"),
        ("status", None, "jira", "status"),  # Server: no fieldId
        ("resolution", "resolution", "jira", "resolution"),
        ("Comment", None, "jira", "comment"),
        ("assignee", "assignee", "jira", "assignee"),
        ("Rank", "customfield_10019", "custom", "rank"),
        ("Sprint", "customfield_10020", "custom", "sprint"),
        ("priority", "priority", "jira", "priority"),
        ("labels", "labels", "jira", "labels"),
        ("Priority", "customfield_10100", "custom", "other"),  # a custom field, not the system priority
        ("Key", None, "jira", "other"),
        ("project", "project", "jira", "other"),
        ("Severity", "customfield_10072", "custom", "other"),
    ],
)
def test_field_categories(field: str, field_id: str | None, field_type: str, category: str) -> None:
    assert categorize_field(field, field_id, field_type) == category
