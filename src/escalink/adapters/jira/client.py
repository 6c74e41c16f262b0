"""JiraTracker: the Tracker port over Jira Cloud (REST v3) or Data Center (REST v2)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Any

import httpx

from escalink.adapters.http import Clock, Sleep, VendorHTTP, VendorProfile, utc_now
from escalink.adapters.jira.activity import ActivityReader, account_zone, jql_datetime
from escalink.adapters.jira.adf import adf_to_text
from escalink.adapters.jira.fields import FieldCatalog, TTLCache
from escalink.adapters.jira.mapper import Flavor, IssueMapper, MappedIssue
from escalink.config import Settings
from escalink.domain.activity import IssueActivity
from escalink.domain.draft import Problem
from escalink.domain.errors import TrackerMisconfigured, VendorRejected, VendorUnavailable
from escalink.domain.records import CreatedIssue, IssueComment, IssueDetails, IssueSpec, IssueView

API_PREFIX: dict[str, str] = {"cloud": "/rest/api/3", "datacenter": "/rest/api/2"}
# An agent who is missing from Jira today may be added tomorrow: remember a miss briefly only.
NEGATIVE_USER_CACHE_SECONDS = 300.0
VIEW_FIELDS = "summary,status,priority,assignee,updated"

# JQL compares dates to the minute, in the searching account's time zone (see
# activity.jql_datetime). The literal is also moved back by this margin, for what the
# minute floor cannot absorb: a timestamp written a little before the search index has it.
JQL_SAFETY_MARGIN = timedelta(minutes=2)
_PROJECT_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,254}")


def jira_profile(flavor: Flavor) -> VendorProfile:
    settings_hint = (
        "ESCALINK_JIRA_EMAIL and ESCALINK_JIRA_API_TOKEN" if flavor == "cloud" else "ESCALINK_JIRA_PAT"
    )
    return VendorProfile(
        key="jira",
        display_name="Jira",
        credentials_hint=f"ask an admin to check Escalink's Jira credentials ({settings_hint})",
    )


class _BearerAuth(httpx.Auth):
    """Data Center personal access tokens travel as a bearer token."""

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]
        request.headers["Authorization"] = self._header
        yield request


class JiraTracker:
    """Creates escalation issues in Jira and reads them back (ports.tracker.Tracker).

    Discovery (issue types, create-screen fields, reporters' accounts) is cached for
    `cache_seconds`, so a warm escalation costs one create request plus its uploads.
    """

    def __init__(
        self,
        http: VendorHTTP,
        *,
        flavor: Flavor,
        field_names: Mapping[str, str],
        field_ids: Mapping[str, str] | None = None,
        cache_seconds: float = 3600.0,
        link_icon_url: str | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        project_key: str | None = None,
    ) -> None:
        self.http = http
        self.project_key = project_key  # the project `updated_since` searches by default
        self.flavor: Flavor = flavor
        self.prefix = API_PREFIX[flavor]
        self.catalog = FieldCatalog(
            http,
            self.prefix,
            field_names=field_names,
            field_ids=field_ids,
            cache_seconds=cache_seconds,
            monotonic=monotonic,
        )
        self.mapper = IssueMapper(self.catalog, flavor)
        self._users = TTLCache(cache_seconds, monotonic)
        self._user_ttl = cache_seconds
        self._link_icon_url = link_icon_url

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        transport: httpx.BaseTransport | None = None,
        *,
        sleep: Sleep = time.sleep,
        clock: Clock = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        project_key: str | None = None,
    ) -> JiraTracker:
        """Build from Settings; `transport` lets tests answer in place of Jira.

        `project_key` is the escalation project (from the policy), searched by `updated_since`.
        """
        flavor: Flavor = settings.jira_flavor
        auth: httpx.Auth = (
            httpx.BasicAuth(settings.jira_email, settings.jira_api_token.get_secret_value())
            if flavor == "cloud"
            else _BearerAuth(settings.jira_pat.get_secret_value())
        )
        http = VendorHTTP.from_settings(
            settings, settings.jira_url, profile=jira_profile(flavor), auth=auth, transport=transport,
            sleep=sleep, clock=clock,
        )
        icon = f"{settings.zendesk_url.rstrip('/')}/favicon.ico" if settings.zendesk_url else None
        return cls(
            http,
            flavor=flavor,
            field_names=settings.jira_field_names,
            field_ids=settings.jira_field_ids,
            cache_seconds=settings.discovery_cache_seconds,
            link_icon_url=icon,
            monotonic=monotonic,
            project_key=project_key,
        )

    def close(self) -> None:
        self.http.close()

    def issue_url(self, key: str) -> str:
        return f"{self.http.base_url}/browse/{key}"

    def check_issue(self, spec: IssueSpec) -> list[str]:
        """Display names of fields that would be left blank; raises TrackerMisconfigured. Writes nothing."""
        return list(self._map(spec).omitted)

    def create_issue(self, spec: IssueSpec) -> CreatedIssue:
        """One POST with every field; attachments and the remote link follow separately."""
        mapped = self._map(spec)
        try:
            response = self.http.request("POST", f"{self.prefix}/issue", json={"fields": mapped.fields})
        except VendorRejected as exc:
            raise self._readable(spec, exc) from None
        body = _json(response, self.http)
        key = str(body.get("key", ""))
        return CreatedIssue(
            id=str(body.get("id", "")), key=key, url=self.issue_url(key), omitted_fields=mapped.omitted
        )

    def add_attachment(self, issue_id: str, file_name: str, content: bytes, content_type: str) -> None:
        # Jira refuses multipart uploads without this header (XSRF protection for form posts).
        self.http.request(
            "POST",
            f"{self.prefix}/issue/{issue_id}/attachments",
            files={"file": (file_name, content, content_type or "application/octet-stream")},
            headers={"X-Atlassian-Token": "no-check"},
        )

    def attachment_names(self, issue_id: str) -> set[str]:
        response = self.http.request("GET", f"{self.prefix}/issue/{issue_id}", params={"fields": "attachment"})
        fields = _json(response, self.http).get("fields") or {}
        return {str(a.get("filename", "")) for a in fields.get("attachment") or [] if isinstance(a, dict)}

    def add_remote_link(self, issue_id: str, global_id: str, url: str, title: str) -> None:
        obj: dict[str, Any] = {"url": url, "title": title}
        icon: dict[str, str] = {"title": "Zendesk ticket"}
        if self._link_icon_url:
            icon["url16x16"] = self._link_icon_url
        obj["icon"] = icon
        payload = {
            "globalId": global_id,
            "application": {"type": "com.zendesk.support", "name": "Zendesk"},
            "relationship": "escalated from",
            "object": obj,
        }
        # Jira updates the link that already carries this globalId instead of adding a
        # second one, so repeating the POST after a timeout is harmless.
        self.http.request("POST", f"{self.prefix}/issue/{issue_id}/remotelink", json=payload, idempotent=True)

    def get_issue(self, issue_id: str) -> IssueView:
        response = self.http.request("GET", f"{self.prefix}/issue/{issue_id}", params={"fields": VIEW_FIELDS})
        return self._view(_json(response, self.http), issue_id)

    def issue_details(self, issue_id: str, comments: int = 3) -> IssueDetails:
        """The issue with its description and latest comments (ports.tracker.IssueReader): two reads.

        The comments come from the issue's comment list, newest first: the `comment` field of
        GET issue holds the oldest ones when an issue has many.
        """
        response = self.http.request(
            "GET", f"{self.prefix}/issue/{issue_id}", params={"fields": f"{VIEW_FIELDS},description"}
        )
        body = _json(response, self.http)
        view = self._view(body, issue_id)
        listed = _json(self.http.request(
            "GET", f"{self.prefix}/issue/{view.id}/comment",
            params={"orderBy": "-created", "startAt": 0, "maxResults": max(1, comments)},
        ), self.http)
        raw = [c for c in listed.get("comments") or [] if isinstance(c, dict)][:comments]
        total = listed.get("total")
        return IssueDetails(
            issue=view,
            description=_plain((body.get("fields") or {}).get("description")),
            comments=tuple(IssueComment(
                id=str(c.get("id", "")),
                author=(c.get("author") or {}).get("displayName") if isinstance(c.get("author"), dict) else None,
                created=c.get("created") if isinstance(c.get("created"), str) else None,
                body=_plain(c.get("body")),
            ) for c in raw),
            total_comments=total if isinstance(total, int) and not isinstance(total, bool) else len(raw),
        )

    def _view(self, body: dict[str, Any], issue_id: str) -> IssueView:
        fields = body.get("fields") or {}
        key = str(body.get("key", ""))
        return IssueView(
            id=str(body.get("id", issue_id)),
            key=key,
            summary=str(fields.get("summary") or ""),
            status=str((fields.get("status") or {}).get("name") or ""),
            priority=(fields.get("priority") or {}).get("name"),
            assignee=(fields.get("assignee") or {}).get("displayName"),
            updated=fields.get("updated"),
            url=self.issue_url(key),
        )

    def find_by_label(self, label: str) -> CreatedIssue | None:
        # Cloud: the old /search answers 410; /search/jql is the replacement. DC keeps /search.
        path = f"{self.prefix}/search/jql" if self.flavor == "cloud" else f"{self.prefix}/search"
        query = {"jql": f'labels = "{label}"', "fields": ["summary"], "maxResults": 2}
        response = self.http.request("POST", path, json=query, idempotent=True)
        issues = _json(response, self.http).get("issues") or []
        if not issues:
            return None
        key = str(issues[0].get("key", ""))
        return CreatedIssue(id=str(issues[0].get("id", "")), key=key, url=self.issue_url(key))

    def add_comment(self, issue_id: str, text: str) -> str:
        """Add a comment (ADF on Cloud, wiki text on Data Center); returns the comment id.

        Not retried after an ambiguous failure: a second POST would add the comment twice.
        """
        body = self.mapper.rich_text(text)
        response = self.http.request("POST", f"{self.prefix}/issue/{issue_id}/comment", json={"body": body})
        return str(_json(response, self.http).get("id", ""))

    def find_comment(self, issue_id: str, text: str) -> str | None:
        """The id of the issue's comment whose text contains `text` (a marker line), newest first; None
        if there is none. Used before posting again after an attempt whose answer was lost."""
        comments = ActivityReader(self.http, self.prefix, cloud=self.flavor == "cloud")._all_comments(issue_id)
        for c in reversed(comments):
            body = c.get("body")
            plain = adf_to_text(body) if isinstance(body, dict) else str(body or "")
            if text in plain:
                return str(c.get("id", ""))
        return None

    def own_account(self) -> str:
        """Escalink's own Jira account (Cloud accountId, DC user name), to ignore its own changes; cached."""
        found: str = self._users.get_or_load(
            "\x00myself", lambda: self._myself(), ttl_for=lambda _: self._user_ttl
        )
        return found

    def _myself(self) -> str:
        me = self.http.get_json(f"{self.prefix}/myself")
        key = "accountId" if self.flavor == "cloud" else "name"
        return str(me.get(key, "")) if isinstance(me, dict) else ""

    def find_user(self, email: str) -> str | None:
        """The reporter value for an agent's e-mail: Cloud accountId or DC user name; cached."""
        wanted = email.strip().casefold()
        if not wanted:
            return None
        found: str | None = self._users.get_or_load(
            wanted,
            lambda: self._search_user(wanted),
            ttl_for=lambda user: self._user_ttl if user else min(self._user_ttl, NEGATIVE_USER_CACHE_SECONDS),
        )
        return found

    def _search_user(self, email: str) -> str | None:
        if self.flavor == "cloud":
            users = self.http.get_json(f"{self.prefix}/user/search", params={"query": email})
            id_key = "accountId"
        else:
            users = self.http.get_json(f"{self.prefix}/user/search", params={"username": email})
            id_key = "name"
        if not isinstance(users, list):
            return None
        candidates = [u for u in users if isinstance(u, dict) and u.get(id_key) and u.get("active", True)]
        exact = [u for u in candidates if str(u.get("emailAddress", "")).casefold() == email]
        if len(exact) == 1:
            return str(exact[0][id_key])
        # Cloud hides e-mail addresses by default (profile visibility): a single active human
        # account matching the query is taken as the agent; several are never guessed between.
        humans = [u for u in candidates if u.get("accountType", "atlassian") == "atlassian"]
        if not exact and len(humans) == 1 and not humans[0].get("emailAddress"):
            return str(humans[0][id_key])
        return None

    # --- "updated since" (reconciliation) ------------------------------------------------------

    def updated_since(
        self, since: datetime, *, limit: int = 500, project_key: str | None = None
    ) -> list[IssueActivity]:
        """Issues of the project updated at or after `since`, oldest update first, at most `limit`.

        One JQL search (`project = "KEY" AND updated >= "yyyy/MM/dd HH:mm" ORDER BY updated ASC`),
        paged; Cloud on POST /search/jql (nextPageToken), Data Center on POST /search (startAt).
        Each issue comes with ALL its comments: when a search result carries only some of them,
        the rest are read from the issue's comment list.

        The date is written in the account's time zone (GET /myself, cached), floored to the
        minute and moved back by JQL_SAFETY_MARGIN, so issues updated a little before `since`
        come back too: callers de-duplicate. Because of the order, a result cut at `limit` is
        safe to continue from the last `updated` it holds. `project_key` defaults to the
        configured project.
        """
        if since.tzinfo is None or since.utcoffset() is None:
            raise ValueError("updated_since needs a timezone-aware datetime")
        project = project_key or self.project_key
        if not project or not _PROJECT_KEY.fullmatch(project):
            raise TrackerMisconfigured(
                "Escalink has no valid Jira project key to search for recent changes: ask an admin to "
                "check the policy's project.",
                vendor=self.http.profile.key,
            )
        literal = jql_datetime(since - JQL_SAFETY_MARGIN, self.account_zone())
        jql = f'project = "{project}" AND updated >= "{literal}" ORDER BY updated ASC'
        return ActivityReader(self.http, self.prefix, cloud=self.flavor == "cloud").updated(jql, limit)

    def account_zone(self) -> tzinfo | None:
        """The time zone Jira reads JQL dates in for Escalink's account (/myself `timeZone`); cached.

        None when Jira does not say or names a zone unknown here.
        """
        name: str = self._users.get_or_load(
            "\x00timezone", self._myself_zone_name, ttl_for=lambda _: self._user_ttl
        )
        return account_zone(name)

    def _myself_zone_name(self) -> str:
        me = self.http.get_json(f"{self.prefix}/myself")
        zone = me.get("timeZone") if isinstance(me, dict) else None
        return zone if isinstance(zone, str) else ""

    def _map(self, spec: IssueSpec) -> MappedIssue:
        return self.mapper.map(spec, self.find_user(spec.reporter_email))

    def _readable(self, spec: IssueSpec, exc: VendorRejected) -> VendorRejected:
        """Jira names fields by id in its errors; agents and admins know them by name."""
        meta = self.catalog.issue_type(spec.project_key, spec.issue_type)
        problems = [
            Problem(self.mapper.field_label(meta, p.field), p.code, p.message) if p.field else p
            for p in exc.problems
        ]
        # A refusal means cached metadata may be stale (a field removed, an option renamed).
        self.catalog.clear()
        return VendorRejected(exc.message, problems=problems, vendor=exc.vendor)


def _plain(value: object) -> str:
    """A long-text value as plain text: ADF on Cloud, wiki text (shown as written) on Data Center."""
    if isinstance(value, dict):
        return adf_to_text(value)
    return value.strip() if isinstance(value, str) else ""


def _json(response: httpx.Response, http: VendorHTTP) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise VendorUnavailable(
            f"{http.profile.display_name} answered with something Escalink cannot read; check Jira "
            "before trying again.",
            vendor=http.profile.key,
        )
    return body
