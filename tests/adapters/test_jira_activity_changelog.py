"""Issue histories in "updated since" search results expanded with `changelog`, Cloud and Data Center shapes.

The history items are the real ones of recorded Jira webhooks (jira_webhooks/fixtures, see SOURCES.md
there): a webhook's `changelog` is the same history entry the issue's changelog holds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from escalink.adapters.jira.activity import UnreadableActivity, issue_activity, search_changes
from escalink.domain.activity import ChangeItem

FIXTURES = Path(__file__).parent / "jira_webhooks" / "fixtures"
UPDATED = "2024-05-06T12:00:00.000+0000"


def webhook(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((FIXTURES / name).read_bytes())
    return payload


def history(name: str, created: str, history_id: str | None = None) -> dict[str, Any]:
    """The history entry a recorded `jira:issue_updated` webhook reported, as the issue's changelog holds it."""
    hook = webhook(name)
    return {"id": history_id or hook["changelog"]["id"], "author": hook["user"], "created": created,
            "items": hook["changelog"]["items"]}


def result(histories: list[dict[str, Any]] | None, total: int | None = None) -> dict[str, Any]:
    raw: dict[str, Any] = {"id": "10040", "key": "TES-41", "self": "https://jira.example.com/rest/api/2/issue/10040",
                           "fields": {"summary": "App closes after login", "status": {"name": "Done"},
                                      "updated": UPDATED}}
    if histories is not None:
        raw["changelog"] = {"startAt": 0, "maxResults": len(histories),
                            "total": len(histories) if total is None else total, "histories": histories}
    return raw


def item(field: str, field_id: str | None, field_type: str | None, values: tuple[str | None, ...]) -> ChangeItem:
    return ChangeItem(field, field_id, field_type, *values)


@dataclass(frozen=True)
class Case:
    name: str
    fixture: str
    account_id: str | None  # Cloud names the author by accountId, Data Center by user name
    user_name: str | None
    items: tuple[ChangeItem, ...]


CASES = [
    Case("cloud transition: status and resolution, ids and nulls", "webhook-issue-updated-resolved.json",
         "5c5f880629be9642ba529340", "admin", (
             item("resolution", "resolution", "jira", (None, None, "10000", "Done")),
             item("status", "status", "jira", ("3", "In Progress", "10002", "Done")))),
    Case("cloud custom field", "webhook-cloud-issue-updated-custom-field.json", "5cedcb4355a88a0fc86388ba", "test",
         (item("MJK - Number Field", "customfield_10072", "custom", (None, "1", None, "12")),)),
    Case("cloud assignee removed", "webhook-issue-updated-assigned-nobody.json", "5c5f880629be9642ba529340",
         "admin", (item("assignee", "assignee", "jira", ("admin", "Test User", None, None)),)),
    Case("data center transition: no field ids", "webhook-server-issue-updated-resolved.json", None, "admin", (
        item("status", None, "jira", ("3", "In Progress", "5", "Resolved")),
        item("resolution", None, "jira", (None, None, "10000", "Done")))),
    Case("data center reopened", "webhook-server-issue-updated-reopened.json", None, "admin", (
        item("resolution", None, "jira", ("10000", "Done", None, None)),
        item("status", None, "jira", ("5", "Resolved", "4", "Reopened")))),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_history_entries_are_read_as_jira_wrote_them(case: Case) -> None:
    activity = issue_activity(result([history(case.fixture, "2024-05-06T11:59:00.120+0000")]), [])
    (change,) = activity.changes
    assert change.id == webhook(case.fixture)["changelog"]["id"]
    assert change.created == datetime.fromisoformat("2024-05-06T11:59:00.120+0000")
    assert change.author is not None
    assert (change.author.account_id, change.author.name) == (case.account_id, case.user_name)
    assert change.items == case.items
    assert activity.changes_complete


def test_values_left_out_read_as_none() -> None:
    # The sandbox (and both specs, which type the values as plain strings) leave unset values out.
    entry = {"id": 10500, "created": UPDATED, "items": [{"field": "status", "toString": "Done"}]}
    (change,) = issue_activity(result([entry]), []).changes
    assert change.id == "10500" and change.author is None
    assert change.items == (ChangeItem("status", None, None, None, None, None, "Done"),)


@dataclass(frozen=True)
class Order:
    name: str
    minutes: tuple[int, ...]  # creation of each history, in the order Jira sent them
    total: int | None
    complete: bool


ORDERS = [
    # Cloud: the most recent entries, newest first, and `total` counts them all.
    Order("cloud newest first, cut", (30, 20, 10), 5, False),
    Order("cloud all of them", (30, 20, 10), None, True),
    # Data Center: every entry, oldest first.
    Order("data center oldest first", (10, 20, 30), None, True),
    Order("same moment: the id decides", (10, 10), None, True),
]


@pytest.mark.parametrize("order", ORDERS, ids=[o.name for o in ORDERS])
def test_histories_come_out_oldest_first(order: Order) -> None:
    base = datetime.fromisoformat(UPDATED) - timedelta(hours=1)
    stamps = [(base + timedelta(minutes=m)).strftime("%Y-%m-%dT%H:%M:%S.000+0000") for m in order.minutes]
    entries = [history("webhook-issue-updated-labels.json", s, str(20000 + n)) for n, s in enumerate(stamps)]
    activity = issue_activity(result(entries, order.total), [])
    assert [c.created for c in activity.changes] == sorted(datetime.fromisoformat(s) for s in stamps)
    if len(set(order.minutes)) == 1:
        assert [c.id for c in activity.changes] == ["20000", "20001"]
    assert activity.changes_complete is order.complete


def test_no_changelog_means_no_changes() -> None:
    activity = issue_activity(result(None), [])
    assert (activity.changes, activity.changes_complete) == ((), True)
    assert search_changes({"changelog": "not an object"}) == ([], True)


@pytest.mark.parametrize(
    "entry",
    [
        {"created": UPDATED, "items": []},  # no id
        {"id": "1", "items": []},  # no creation time
        {"id": True, "created": UPDATED, "items": []},
        {"id": "1", "created": "yesterday", "items": []},
        {"id": "1", "created": UPDATED, "items": {"field": "status"}},
        {"id": "1", "created": UPDATED, "items": [{"fieldId": "status", "toString": "Jane's private note"}]},
    ],
)
def test_unreadable_histories_are_refused_without_quoting_them(entry: dict[str, Any]) -> None:
    with pytest.raises(UnreadableActivity) as caught:
        issue_activity(result([entry]), [])
    assert "Jane" not in str(caught.value)


def test_changed_values_stay_out_of_repr() -> None:
    entry = {"id": "1", "created": UPDATED, "items": [
        {"field": "description", "fromString": "Member Jane Roe, DOB 1980-01-02", "toString": "redacted",
         "from": "secret-from", "to": "secret-to"}]}
    activity = issue_activity(result([entry]), [])
    shown = repr(activity)
    assert "description" in shown
    assert not any(s in shown for s in ("Jane", "1980", "redacted", "secret-from", "secret-to"))
