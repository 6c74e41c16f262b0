"""Reading "updated since" searches for `JiraTracker.updated_since`: JQL date literals, paged
searches, and issues/comments/histories into domain activity.

Jira reads a JQL date such as "2024/03/10 01:30" in the searching account's own time zone
(its profile's `timeZone`, as GET /myself reports it), to the minute. Comment bodies and
changed values are kept exactly as Jira sent them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from escalink.adapters.http import VendorHTTP
from escalink.domain.activity import ActivityUser, ChangeActivity, ChangeItem, CommentActivity, IssueActivity
from escalink.domain.errors import NotFound, VendorUnavailable

ACTIVITY_FIELDS = ["summary", "status", "updated", "comment"]
# The issue's history comes with each result when asked for. Cloud's /search/jql takes `expand`
# as one comma-separated string, Data Center's POST /search as a list (see each flavour's spec).
CLOUD_EXPAND = "changelog"
DC_EXPAND = ["changelog"]
SEARCH_PAGE_SIZE = 100
COMMENT_PAGE_SIZE = 100
# Bound one call even if Jira answers with tiny pages. Results are ordered by `updated`, so a
# caller continues from the last one it got.
MAX_SEARCH_PAGES = 100
MAX_COMMENT_PAGES = 100

# Without a usable zone for the account the literal is written in UTC and moved back by the
# largest offset behind UTC in use (UTC-12): never later than meant, at worst 12 hours early.
UNKNOWN_ZONE_MARGIN = timedelta(hours=12)


class UnreadableActivity(ValueError):
    """Jira's answer lacks what an activity needs (an issue id, a parseable date); names no content."""


def account_zone(name: object) -> tzinfo | None:
    """The zone of a /myself `timeZone` value ("Europe/Berlin"), or None when absent or unknown here."""
    if not isinstance(name, str) or not name.strip():
        return None
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        return None


def jql_datetime(moment: datetime, zone: tzinfo | None) -> str:
    """`moment` as a JQL date literal ("yyyy/MM/dd HH:mm") that Jira, reading it in `zone`, puts at or before it.

    The minute is floored. A wall time inside a daylight-saving change names two instants,
    and Jira may take the later one: the literal then steps back until every reading of it
    is at or before `moment`.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a JQL date needs a timezone-aware moment")
    moment = moment.astimezone(UTC)
    if zone is None:
        zone, moment = UTC, moment - UNKNOWN_ZONE_MARGIN
    wall = moment.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
    for _ in range(4):
        latest = max(wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1))
        if latest <= moment:
            break
        wall = (wall - (latest - moment)).replace(second=0, microsecond=0)
    return wall.strftime("%Y/%m/%d %H:%M")


def jira_time(raw: object) -> datetime | None:
    """A Jira timestamp ("2019-02-15T19:11:18.321-0800"), aware; None when absent or not a timestamp."""
    if not isinstance(raw, str):
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def activity_user(raw: object) -> ActivityUser | None:
    if not isinstance(raw, Mapping):
        return None
    account = raw.get("accountId")
    name = raw.get("name")
    display = raw.get("displayName")
    if not isinstance(account, str) and not isinstance(name, str):
        return None
    return ActivityUser(
        account_id=account if isinstance(account, str) and account else None,
        name=name if isinstance(name, str) and name else None,
        display_name=display if isinstance(display, str) else None,
    )


def comment_activity(raw: Mapping[str, Any]) -> CommentActivity:
    """One comment of GET .../comment or of a search's `comment` field."""
    comment_id = raw.get("id")
    created = jira_time(raw.get("created"))
    if isinstance(comment_id, bool) or not isinstance(comment_id, str | int) or created is None:
        raise UnreadableActivity("a Jira comment lacks its id or creation time")
    body = raw.get("body")
    visibility = raw.get("visibility")
    jsd_public = raw.get("jsdPublic")
    return CommentActivity(
        id=str(comment_id),
        author=activity_user(raw.get("author")),
        created=created,
        updated=jira_time(raw.get("updated")),
        body=body if isinstance(body, str | dict) else "",
        update_author=activity_user(raw.get("updateAuthor")),
        visibility=(
            {k: str(v) for k, v in visibility.items() if k in ("type", "value", "identifier") and v is not None}
            if isinstance(visibility, dict) and visibility.get("value")
            else None
        ),
        url=raw["self"] if isinstance(raw.get("self"), str) else None,
        jsd_public=jsd_public if isinstance(jsd_public, bool) else None,
    )


def search_comments(fields: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The comments a search result carries, or None when they are not all there.

    Jira Cloud pages the `comment` field inside search results (`total` > the comments sent);
    the caller then reads the issue's comment list itself.
    """
    field = fields.get("comment")
    if not isinstance(field, Mapping):
        return None
    comments = field.get("comments")
    if not isinstance(comments, list):
        return None
    total = field.get("total")
    if isinstance(total, int) and not isinstance(total, bool) and total > len(comments):
        return None
    return [c for c in comments if isinstance(c, dict)]


def _text(raw: object) -> str | None:
    if isinstance(raw, str):
        return raw
    return str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else None


def change_item(raw: Mapping[str, Any]) -> ChangeItem:
    """One item of a history: Cloud names the field's id (`fieldId`), Data Center does not."""
    name = raw.get("field")
    if not isinstance(name, str) or not name:
        raise UnreadableActivity("a Jira history item lacks its field")
    field_id, field_type = raw.get("fieldId"), raw.get("fieldtype")
    return ChangeItem(
        field=name,
        field_id=field_id if isinstance(field_id, str) and field_id else None,
        field_type=field_type if isinstance(field_type, str) and field_type else None,
        from_value=_text(raw.get("from")),
        from_string=_text(raw.get("fromString")),
        to_value=_text(raw.get("to")),
        to_string=_text(raw.get("toString")),
    )


def change_activity(raw: Mapping[str, Any]) -> ChangeActivity:
    """One history of an expanded changelog (id, author, created, items)."""
    history_id = raw.get("id")
    created = jira_time(raw.get("created"))
    if isinstance(history_id, bool) or not isinstance(history_id, str | int) or history_id == "" or created is None:
        raise UnreadableActivity("a Jira history lacks its id or creation time")
    items = raw.get("items")
    if items is not None and not isinstance(items, list):
        raise UnreadableActivity("a Jira history's items are not a list")
    return ChangeActivity(
        id=str(history_id),
        author=activity_user(raw.get("author")),
        created=created,
        items=tuple(change_item(i) for i in items or [] if isinstance(i, Mapping)),
    )


def search_changes(raw: Mapping[str, Any]) -> tuple[list[ChangeActivity], bool]:
    """The histories of a search result expanded with `changelog`, oldest first, and whether Jira
    sent all of them (Cloud sends the most recent ones, newest first; Data Center all, oldest first)."""
    changelog = raw.get("changelog")
    if not isinstance(changelog, Mapping):
        return [], True
    histories = changelog.get("histories")
    histories = [h for h in histories if isinstance(h, Mapping)] if isinstance(histories, list) else []
    total = changelog.get("total")
    complete = not (isinstance(total, int) and not isinstance(total, bool) and total > len(histories))
    parsed = sorted((change_activity(h) for h in histories), key=lambda c: (c.created, len(c.id), c.id))
    return parsed, complete


def issue_activity(raw: Mapping[str, Any], comments: list[dict[str, Any]]) -> IssueActivity:
    """A search result (fields summary, status, updated; changelog when expanded) with all its comments."""
    fields = raw.get("fields")
    fields = fields if isinstance(fields, Mapping) else {}
    issue_id = raw.get("id")
    updated = jira_time(fields.get("updated"))
    if isinstance(issue_id, bool) or not isinstance(issue_id, str | int) or updated is None:
        raise UnreadableActivity("a Jira search result lacks the issue id or its update time")
    status = fields.get("status")
    parsed = sorted(
        (comment_activity(c) for c in comments),
        key=lambda c: (c.created, len(c.id), c.id),
    )
    summary = fields.get("summary")
    changes, complete = search_changes(raw)
    return IssueActivity(
        issue_id=str(issue_id),
        key=str(raw.get("key") or ""),
        updated=updated,
        status=str(status.get("name") or "") if isinstance(status, Mapping) else "",
        comments=tuple(parsed),
        summary=summary if isinstance(summary, str) else "",
        url=raw["self"] if isinstance(raw.get("self"), str) else None,
        changes=tuple(changes),
        changes_complete=complete,
    )


class ActivityReader:
    """Runs one "updated since" JQL over the search API of either flavour and reads the results."""

    def __init__(self, http: VendorHTTP, prefix: str, *, cloud: bool) -> None:
        self.http, self.prefix, self.cloud = http, prefix, cloud

    def updated(self, jql: str, limit: int) -> list[IssueActivity]:
        found: list[IssueActivity] = []
        try:
            for raw in self._pages(jql, limit):
                fields = raw.get("fields")
                comments = search_comments(fields if isinstance(fields, dict) else {})
                if comments is None:
                    comments = self._all_comments(str(raw.get("id", "")))
                found.append(issue_activity(raw, comments))
        except UnreadableActivity:
            raise self._unreadable() from None
        return found

    def _pages(self, jql: str, limit: int) -> Iterator[dict[str, Any]]:
        # Cloud: the old /search answers 410; /search/jql pages with tokens. DC keeps /search.
        path = f"{self.prefix}/search/jql" if self.cloud else f"{self.prefix}/search"
        token: str | None = None
        taken = 0
        for _ in range(MAX_SEARCH_PAGES):
            if taken >= limit:
                return
            query: dict[str, Any] = {
                "jql": jql, "fields": ACTIVITY_FIELDS, "maxResults": min(SEARCH_PAGE_SIZE, limit - taken),
                "expand": CLOUD_EXPAND if self.cloud else DC_EXPAND,
            }
            if self.cloud and token:
                query["nextPageToken"] = token
            elif not self.cloud:
                query["startAt"] = taken
            # A search changes nothing: safe to repeat after a timeout.
            page = self._json(self.http.request("POST", path, json=query, idempotent=True).content)
            issues = [i for i in page.get("issues") or [] if isinstance(i, dict)][: limit - taken]
            yield from issues
            taken += len(issues)
            if not issues:
                return
            if self.cloud:
                # Jira may send fewer issues than asked for: only the token says whether more follow.
                following = page.get("nextPageToken")
                if page.get("isLast") is True or not isinstance(following, str) or not following:
                    return
                if following == token:
                    raise UnreadableActivity("Jira repeated a search page token")
                token = following
            else:
                total = page.get("total")
                if isinstance(total, int) and taken >= total:
                    return

    def _all_comments(self, issue_id: str) -> list[dict[str, Any]]:
        """Every comment of an issue, oldest first (GET .../comment, paged by startAt)."""
        comments: list[dict[str, Any]] = []
        for _ in range(MAX_COMMENT_PAGES):
            params = {"startAt": len(comments), "maxResults": COMMENT_PAGE_SIZE, "orderBy": "created"}
            try:
                page = self.http.get_json(f"{self.prefix}/issue/{issue_id}/comment", params=params)
            except NotFound:
                # Deleted since the search: its deletion reaches Escalink on its own.
                return comments
            if not isinstance(page, dict):
                raise UnreadableActivity("Jira's comment list is not an object")
            batch = [c for c in page.get("comments") or [] if isinstance(c, dict)]
            comments.extend(batch)
            total = page.get("total")
            if not batch or not isinstance(total, int) or len(comments) >= total:
                break
        return comments

    @staticmethod
    def _json(content: bytes) -> dict[str, Any]:
        try:
            body = json.loads(content)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise UnreadableActivity("Jira's search answer is not a JSON object")
        return body

    def _unreadable(self) -> VendorUnavailable:
        return VendorUnavailable(
            f"{self.http.profile.display_name} answered with something Escalink cannot read; check Jira "
            "before trying again.",
            vendor=self.http.profile.key,
        )
