"""JiraTracker.updated_since against the Jira emulator on loopback HTTP: JQL, time zones, pages, comments."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from pydantic import SecretStr

from escalink.adapters.jira import JiraTracker
from escalink.adapters.jira.activity import jql_datetime
from escalink.adapters.jira.webhook import parse_jira_webhook
from escalink.config import Settings
from escalink.domain.errors import TrackerMisconfigured, VendorRejected
from escalink.domain.events import IssueChanged
from escalink.sandbox.contract import SpecValidator
from escalink.sandbox.jira_app import create_jira_app
from escalink.sandbox.jira_people import transition
from escalink.sandbox.jira_search import JiraSiteOptions
from escalink.sandbox.jira_state import BUG, JiraIssue, JiraState, JiraUser, now_jira
from escalink.sandbox.recorder import CallRecorder
from escalink.sandbox.runner import ServerThread
from escalink.sandbox.seed import apply_seed, load_seed
from escalink.services.reconcile import comment_created_webhook, issue_updated_webhook
from escalink.services.sync_policy import drop_echoes

MARKER = "(sent from Zendesk ticket #101 via Escalink, ref 1a2b3c4d)"


@dataclass
class Site:
    state: JiraState
    recorder: CallRecorder
    options: JiraSiteOptions
    url: str
    flavor: str

    @property
    def prefix(self) -> str:
        return "/rest/api/3" if self.flavor == "cloud" else "/rest/api/2"

    def tracker(self, project_key: str | None = "ESCA") -> JiraTracker:
        settings = Settings(  # type: ignore[call-arg]
            jira_url=self.url, jira_flavor=self.flavor, jira_email=self.state.cloud_email,
            jira_api_token=SecretStr(self.state.cloud_api_token), jira_pat=SecretStr(self.state.dc_pat),
            http_max_attempts=1, _env_file=None,
        )
        return JiraTracker.from_settings(settings, project_key=project_key)

    def client(self) -> httpx.Client:
        if self.flavor == "cloud":
            return httpx.Client(base_url=self.url, auth=(self.state.cloud_email, self.state.cloud_api_token))
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.state.dc_pat}"})

    def issue(self, summary: str, updated: datetime) -> JiraIssue:
        reporter = self.state.users[-1]
        issue = self.state.create_issue(BUG, {"summary": summary, "labels": ["escalink"]}, reporter, None)
        issue.updated = stamp(updated)
        return issue

    def person_comments(self, issue: JiraIssue, author: JiraUser, *texts: str) -> list[str]:
        with self.state.lock:
            ids = []
            for text in texts:
                ids.append(self.state.next_id())
                issue.comments.append({"id": ids[-1], "author": author, "body": text, "created": now_jira()})
            self.state.touch(issue)
            return ids

    def searches(self) -> int:
        path = f"{self.prefix}/search/jql" if self.flavor == "cloud" else f"{self.prefix}/search"
        return self.recorder.count("jira", "POST", path)


def stamp(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


@pytest.fixture(params=["cloud", "datacenter"])
def site(request: pytest.FixtureRequest) -> Iterator[Site]:
    state = JiraState()
    apply_seed(load_seed(), jira=state)
    recorder, options = CallRecorder(), JiraSiteOptions()
    server = ServerThread(create_jira_app(state, recorder, options))
    try:
        yield Site(state, recorder, options, server.url, str(request.param))
    finally:
        server.stop()
    assert recorder.spec_violations() == []  # every request Escalink sent matched the official spec


@pytest.fixture
def engineer(site: Site) -> JiraUser:
    return site.state.add_user("jpike", "jordan.pike@example.com", "Jordan Pike")


def keys(found: list[Any]) -> list[str]:
    return [a.key for a in found]


# --- what comes back ----------------------------------------------------------------------------


def test_issues_updated_since_come_back_oldest_first(site: Site, engineer: JiraUser) -> None:
    now = datetime.now(UTC)
    site.issue("long ago", now - timedelta(hours=3))
    late = site.issue("late", now - timedelta(minutes=5))
    early = site.issue("early", now - timedelta(minutes=20))
    site.issue("before the window", now - timedelta(minutes=40))
    transition(site.state, late, "In Progress")
    late.updated = stamp(now - timedelta(minutes=5))

    found = site.tracker().updated_since(now - timedelta(minutes=30))

    assert keys(found) == [early.key, late.key]
    first, second = found
    assert (first.issue_id, first.status, first.summary, first.comments) == (early.id, "Open", "early", ())
    assert second.status == "In Progress"
    assert second.updated == datetime.fromisoformat(late.updated)
    assert site.searches() == 1


def test_every_comment_arrives_even_when_the_search_sends_only_some(site: Site, engineer: JiraUser) -> None:
    site.options.cloud_search_comments = site.options.dc_search_comments = 2
    now = datetime.now(UTC)
    chatty = site.issue("chatty", now)
    quiet = site.issue("quiet", now)
    ids = site.person_comments(chatty, engineer, "one", "two", "three", "four", "five")
    site.person_comments(quiet, engineer, "only one")

    found = {a.key: a for a in site.tracker().updated_since(now - timedelta(minutes=1))}

    comments = found[chatty.key].comments
    assert [c.id for c in comments] == ids
    assert len(found[quiet.key].comments) == 1
    comment_path = f"{site.prefix}/issue/{{}}/comment"
    assert site.recorder.count("jira", "GET", comment_path.format(chatty.id)) == 1
    assert site.recorder.count("jira", "GET", comment_path.format(quiet.id)) == 0  # complete already
    first = comments[0]
    assert first.author is not None and first.author.display_name == "Jordan Pike"
    if site.flavor == "cloud":
        assert first.author.account_id == engineer.account_id and first.author.name is None
        assert isinstance(first.body, dict) and first.body["type"] == "doc"  # ADF, as Jira sent it
    else:
        assert (first.author.account_id, first.author.name, first.body) == (None, "jpike", "one")
    assert first.created.tzinfo is not None and first.url and first.url.endswith(f"/comment/{first.id}")


def test_short_pages_are_followed_and_limit_keeps_the_oldest(site: Site) -> None:
    site.options.cloud_page_cap = site.options.dc_page_cap = 2
    now = datetime.now(UTC)
    made = [site.issue(f"issue {n}", now - timedelta(minutes=20 - n)) for n in range(7)]

    everything = site.tracker().updated_since(now - timedelta(minutes=25))
    assert keys(everything) == [i.key for i in made]
    assert site.searches() == 4

    capped = site.tracker().updated_since(now - timedelta(minutes=25), limit=5)
    assert keys(capped) == [i.key for i in made[:5]]
    assert site.searches() == 4 + 3


# --- time zones ---------------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["Pacific/Pago_Pago", "Pacific/Kiritimati", "America/New_York"])
def test_the_date_is_written_in_the_accounts_time_zone(site: Site, zone: str) -> None:
    # Jira reads the JQL date in the account's zone: written in UTC it would miss recent issues
    # west of UTC (UTC-11) and drag in hours-old ones east of it (UTC+14).
    site.options.time_zone = zone
    now = datetime.now(UTC)
    recent = site.issue("recent", now - timedelta(minutes=10))
    site.issue("an hour before the window", now - timedelta(minutes=75))
    assert keys(site.tracker().updated_since(now - timedelta(minutes=15))) == [recent.key]


def test_unknown_zone_reaches_back_far_enough(site: Site) -> None:
    site.options.time_zone, site.options.advertise_time_zone = "Etc/GMT+12", False  # UTC-12, not said
    now = datetime.now(UTC)
    recent = site.issue("recent", now - timedelta(minutes=10))
    site.issue("a day before", now - timedelta(hours=26))
    tracker = site.tracker()
    assert tracker.account_zone() is None
    assert keys(tracker.updated_since(now - timedelta(minutes=15))) == [recent.key]


def test_zone_is_asked_once(site: Site) -> None:
    site.options.time_zone = "Europe/Berlin"
    tracker = site.tracker()
    tracker.updated_since(datetime.now(UTC))
    tracker.updated_since(datetime.now(UTC))
    assert tracker.account_zone() == ZoneInfo("Europe/Berlin")
    assert site.recorder.count("jira", "GET", f"{site.prefix}/myself") == 1


@pytest.mark.parametrize(
    ("moment", "zone", "literal"),
    [
        (datetime(2024, 5, 6, 12, 34, 59, tzinfo=UTC), "UTC", "2024/05/06 12:34"),  # floored, never rounded up
        (datetime(2024, 5, 6, 12, 34, tzinfo=UTC), "America/Los_Angeles", "2024/05/06 05:34"),
        # 01:30 EDT, the first of two 01:30s that night: Jira may read "01:30" as the later (EST) one.
        (datetime(2024, 11, 3, 5, 30, tzinfo=UTC), "America/New_York", "2024/11/03 00:30"),
        (datetime(2024, 11, 3, 6, 30, tzinfo=UTC), "America/New_York", "2024/11/03 01:30"),  # the second 01:30
        (datetime(2024, 3, 10, 7, 30, tzinfo=UTC), "America/New_York", "2024/03/10 03:30"),  # after the gap
        (datetime(2024, 5, 6, 12, 0, tzinfo=UTC), None, "2024/05/06 00:00"),  # unknown zone: 12 hours back
    ],
)
def test_jql_datetime(moment: datetime, zone: str | None, literal: str) -> None:
    assert jql_datetime(moment, ZoneInfo(zone) if zone else None) == literal


# --- changes that move `updated` ----------------------------------------------------------------


def test_transitions_and_comments_move_updated(site: Site) -> None:
    now = datetime.now(UTC)
    moved = site.issue("moved", now - timedelta(hours=5))
    answered = site.issue("answered", now - timedelta(hours=5))
    site.issue("untouched", now - timedelta(hours=5))
    tracker = site.tracker()
    transition(site.state, moved, "Resolved")
    tracker.add_comment(answered.id, "We are on it")

    found = tracker.updated_since(now - timedelta(minutes=1))
    assert sorted(keys(found)) == sorted([moved.key, answered.key])
    by_key = {a.key: a for a in found}
    assert by_key[moved.key].status == "Resolved"
    assert len(by_key[answered.key].comments) == 1


def test_escalink_comment_found_by_reconciliation_is_still_an_echo(site: Site) -> None:
    now = datetime.now(UTC)
    issue = site.issue("escalated", now - timedelta(hours=1))
    tracker = site.tracker()
    tracker.add_comment(issue.id, f"The member retried and it still fails.\n\n{MARKER}")

    (activity,) = tracker.updated_since(now - timedelta(minutes=1))
    body = json.dumps(comment_created_webhook(activity, activity.comments[0])).encode()
    event = parse_jira_webhook(body, {}).event

    assert drop_echoes(event, tracker.own_account()) == (None, "own_change")
    assert drop_echoes(event, "") == (None, "escalink_comment")  # the marker survives the round trip too


# --- histories ----------------------------------------------------------------------------------


def test_transitions_come_back_as_history_entries(site: Site, engineer: JiraUser) -> None:
    now = datetime.now(UTC)
    issue = site.issue("escalated", now - timedelta(hours=1))
    started = transition(site.state, issue, "In Progress", by=engineer)
    resolved = transition(site.state, issue, "Resolved", by=engineer)
    assert started and resolved and transition(site.state, issue, "Resolved") is None  # no change, no entry

    (activity,) = site.tracker().updated_since(now - timedelta(minutes=1))

    assert [c.id for c in activity.changes] == [started["id"], resolved["id"]] and activity.changes_complete
    first, second = activity.changes
    assert first.author is not None and first.author.display_name == "Jordan Pike"
    cloud = site.flavor == "cloud"
    assert (first.author.account_id, first.author.name) == ((engineer.account_id, None) if cloud else (None, "jpike"))
    (item,) = second.items
    assert (item.field, item.field_id, item.field_type) == ("status", "status" if cloud else None, "jira")
    assert (item.from_value, item.from_string, item.to_value, item.to_string) == ("3", "In Progress", "5", "Resolved")
    assert second.created == datetime.fromisoformat(resolved["created"]) == activity.updated

    event = parse_jira_webhook(json.dumps(issue_updated_webhook(activity, second)).encode(), {}).event
    assert isinstance(event, IssueChanged)
    assert (event.changelog_id, event.issue_id, event.issue_key) == (resolved["id"], issue.id, issue.key)
    assert event.actor_account == (engineer.account_id if cloud else "jpike")
    assert [(c.category, c.from_string, c.to_string) for c in event.changes] == [("status", "In Progress", "Resolved")]


def test_escalink_own_changes_found_by_reconciliation_are_echoes(site: Site) -> None:
    now = datetime.now(UTC)
    issue = site.issue("escalated", now - timedelta(hours=1))
    tracker = site.tracker()
    tracker.add_attachment(issue.id, "screenshot.png", b"\x89PNG", "image/png")
    tracker.add_remote_link(issue.id, "zendesk-ticket-101", "https://example.zendesk.com/agent/tickets/101",
                            "Zendesk ticket #101")

    (activity,) = tracker.updated_since(now - timedelta(minutes=1))

    assert [[i.field for i in c.items] for c in activity.changes] == [["Attachment"], ["RemoteIssueLink"]]
    for change in activity.changes:
        event = parse_jira_webhook(json.dumps(issue_updated_webhook(activity, change)).encode(), {}).event
        assert drop_echoes(event, tracker.own_account()) == (None, "own_change")


def test_cloud_sends_only_the_latest_history_entries(site: Site, engineer: JiraUser) -> None:
    site.options.cloud_changelog_histories = 2
    now = datetime.now(UTC)
    issue = site.issue("busy", now - timedelta(hours=1))
    made = [transition(site.state, issue, s, by=engineer) for s in ("In Progress", "Resolved", "Reopened")]
    (activity,) = site.tracker().updated_since(now - timedelta(minutes=1))
    ids = [h["id"] for h in made if h]
    if site.flavor == "cloud":
        assert [c.id for c in activity.changes] == ids[1:] and not activity.changes_complete
    else:  # Data Center sends every entry
        assert [c.id for c in activity.changes] == ids and activity.changes_complete


# --- refusals -----------------------------------------------------------------------------------


def test_bad_arguments_and_unknown_project(site: Site) -> None:
    with pytest.raises(ValueError):
        site.tracker().updated_since(datetime(2024, 5, 6, 12, 0))  # naive
    with pytest.raises(TrackerMisconfigured):
        site.tracker(project_key=None).updated_since(datetime.now(UTC))
    with pytest.raises(TrackerMisconfigured):
        site.tracker(project_key='ESCA" OR project = "X').updated_since(datetime.now(UTC))
    with pytest.raises(VendorRejected):
        site.tracker(project_key="OTHER").updated_since(datetime.now(UTC))  # Jira: no such project


BAD_JQL = [
    'project = ESCA OR updated >= "2024/05/06 10:00"',
    'reporter = "jpike"',
    'project = ESCA AND updated >= "yesterday-ish"',
    "project = ESCA ORDER BY rank ASC",
    "project = ESCA AND updated >= startOfDay()",
    "project = ESCA AND (labels = escalink)",
    "project = NOPE",
]


@pytest.mark.parametrize("jql", BAD_JQL)
def test_emulator_refuses_jql_it_does_not_understand(site: Site, jql: str) -> None:
    path = "/rest/api/3/search/jql" if site.flavor == "cloud" else "/rest/api/2/search"
    with site.client() as client:
        answer = client.post(path, json={"jql": jql, "fields": ["summary"]})
    assert answer.status_code == 400
    body = answer.json()
    assert set(body) == {"errorMessages", "errors"} and body["errorMessages"] and body["errors"] == {}


def test_emulator_search_answers_match_the_spec_and_page(site: Site) -> None:
    now = datetime.now(UTC)
    for n in range(3):
        site.issue(f"issue {n}", now - timedelta(minutes=3 - n))
    cloud = site.flavor == "cloud"
    path = "/rest/api/3/search/jql" if cloud else "/rest/api/2/search"
    spec = SpecValidator.for_vendor("jira-cloud" if cloud else "jira-dc")
    jql = f'project = ESCA AND updated >= "{jql_datetime(now - timedelta(minutes=10), UTC)}" ORDER BY updated ASC'
    with site.client() as client:
        first = client.post(path, json={"jql": jql, "fields": ["summary", "comment"], "maxResults": 2})
        assert first.status_code == 200
        assert spec.validate_response("POST", path, 200, first.content) == []
        page = first.json()
        follow: dict[str, Any] = {"jql": jql, "fields": ["summary"], "maxResults": 2}
        if cloud:
            assert page["isLast"] is False and page["nextPageToken"]
            follow["nextPageToken"] = page["nextPageToken"]
        else:
            assert (page["total"], page["startAt"]) == (3, 0)
            follow["startAt"] = 2
        second = client.post(path, json=follow).json()
        assert [i["fields"]["summary"] for i in page["issues"] + second["issues"]] == [
            "issue 0", "issue 1", "issue 2"
        ]
        if cloud:
            assert second["isLast"] is True and "nextPageToken" not in second
            bare = client.post(path, json={"jql": jql}).json()  # Cloud answers ids only by default
            assert all(set(i) == {"id"} for i in bare["issues"])
            forged = client.post(path, json={**follow, "nextPageToken": "bm90LWEtdG9rZW4"})
            assert forged.status_code == 400
            assert client.post(path, json={"jql": "ORDER BY updated"}).status_code == 400  # unbounded
        else:
            assert client.post(path, json={"jql": "ORDER BY updated"}).status_code == 200
        issue_id = page["issues"][0]["id"]
        comments = client.get(f"{site.prefix}/issue/{issue_id}/comment", params={"startAt": 0, "maxResults": 5})
        assert spec.validate_response("GET", f"{site.prefix}/issue/{issue_id}/comment", 200, comments.content) == []
