"""JQL search of the emulated Jira: the query subset it understands, ordering and paging per flavour.

Understood: clauses joined by AND on `project`, `key`/`issuekey`/`id`, `labels` (= and IN)
and `updated`/`created` (and their `...Date` aliases; =, !=, >, >=, <, <=), then an optional
`ORDER BY field [ASC|DESC], ...` on updated, created, key or id. Anything else (OR, NOT,
parentheses, functions, other fields) is answered with Jira's 400 error shape rather than
guessed at. Dates are read in the calling account's time zone, to the minute, as Jira does.

Cloud (`/rest/api/3/search/jql`) pages with an opaque `nextPageToken` and returns only issue
ids unless fields are asked for; Data Center (`/rest/api/2/search`) pages with `startAt` and
reports `total`. Both may return fewer issues per page than asked for (see `JiraSiteOptions`),
and Cloud sends only the first comments of an issue inside search results. `expand` with
`changelog` (a comma-separated string, or a list as Data Center's POST takes it) adds each
issue's history; Cloud sends only its most recent entries.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from escalink.sandbox.jira_rules import JqlError
from escalink.sandbox.jira_state import PROJECT, JiraIssue, JiraState
from escalink.sandbox.jira_views import Views

_TOKEN = re.compile(
    r"""\s*(?:(?P<quoted>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<op>>=|<=|!=|!~|=|>|<|~)"""
    r"""|(?P<punct>[(),])|(?P<word>[^\s()",=<>!~']+))"""
)
_DATE_FIELDS = {"updated": "updated", "updateddate": "updated", "created": "created", "createddate": "created"}
_ORDER_FIELDS = {"updated", "updateddate", "created", "createddate", "key", "issuekey", "id"}
_DATE_FORMATS = ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d")
_RELATIVE = re.compile(r"^([+-]?)(\d+)([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_NAVIGABLE = {"summary", "status", "priority", "assignee", "updated"}
_COMPARE: dict[str, Callable[[datetime, datetime], bool]] = {
    "=": operator.eq, "!=": operator.ne, ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
}


@dataclass
class JiraSiteOptions:
    """How the emulated site behaves where real sites differ; tests may change it while it runs.

    `time_zone` is the calling account's zone: JQL dates are read in it and /myself reports it
    (unless `advertise_time_zone` is False). `*_page_cap` is the most issues a search page
    holds whatever `maxResults` asks; `*_search_comments` how many comments a search result
    carries per issue (None: all of them); `cloud_changelog_histories` how many of the most
    recent history entries an expanded Cloud answer carries (Data Center sends them all).
    """

    time_zone: str = "UTC"
    advertise_time_zone: bool = True
    cloud_page_cap: int = 100
    dc_page_cap: int = 1000
    cloud_search_comments: int | None = 20
    dc_search_comments: int | None = None
    cloud_changelog_histories: int | None = 100

    def zone(self) -> tzinfo:
        return ZoneInfo(self.time_zone)


@dataclass(frozen=True)
class Clause:
    field: str
    op: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Query:
    clauses: tuple[Clause, ...]
    order: tuple[tuple[str, bool], ...]  # (field, descending)


def _tokens(jql: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    pos = 0
    text = jql.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise JqlError(f"Error in the JQL Query: The character '{text[pos]}' is a reserved JQL character "
                           f"(line 1, character {pos + 1}).")
        kind = m.lastgroup or "word"
        value = m.group(kind)
        if kind == "quoted":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        out.append((kind, value, m.start(kind) + 1))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, jql: str) -> None:
        self.tokens = _tokens(jql)
        self.pos = 0

    def peek_word(self) -> str | None:
        if self.pos < len(self.tokens) and self.tokens[self.pos][0] == "word":
            return self.tokens[self.pos][1].lower()
        return None

    def take(self, what: str) -> tuple[str, str, int]:
        if self.pos >= len(self.tokens):
            raise JqlError(f"Error in the JQL Query: Expecting {what} but reached the end of the query.")
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def fail(self, token: tuple[str, str, int], expected: str) -> JqlError:
        return JqlError(f"Error in the JQL Query: Expecting {expected} but got '{token[1]}'. "
                        f"(line 1, character {token[2]})")

    def parse(self) -> Query:
        clauses: list[Clause] = []
        if self.peek_word() != "order":
            while True:
                clauses.append(self.clause())
                word = self.peek_word()
                if word == "and":
                    self.pos += 1
                    continue
                if word == "order" or self.pos >= len(self.tokens):
                    break
                if word in ("or", "not"):
                    raise JqlError(f"The sandbox Jira does not emulate '{word.upper()}' in JQL: use AND only.")
                raise self.fail(self.take("AND"), "'AND', 'OR' or 'ORDER BY'")
        order: list[tuple[str, bool]] = []
        if self.peek_word() == "order":
            self.pos += 1
            if self.peek_word() != "by":
                raise self.fail(self.take("'by'"), "'by'")
            self.pos += 1
            while True:
                kind, name, where = self.take("a field to order by")
                if kind not in ("word", "quoted"):
                    raise self.fail((kind, name, where), "a field to order by")
                if name.lower() not in _ORDER_FIELDS:
                    raise JqlError(f"Not able to sort using field '{name}'.")
                descending = False
                if self.peek_word() in ("asc", "desc"):
                    descending = self.take("direction")[1].lower() == "desc"
                order.append((_DATE_FIELDS.get(name.lower(), name.lower()), descending))
                if self.pos < len(self.tokens) and self.tokens[self.pos][:2] == ("punct", ","):
                    self.pos += 1
                    continue
                break
        if self.pos < len(self.tokens):
            raise self.fail(self.tokens[self.pos], "the end of the query")
        return Query(tuple(clauses), tuple(order))

    def clause(self) -> Clause:
        kind, name, where = self.take("a field name")
        if kind not in ("word", "quoted"):
            raise self.fail((kind, name, where), "a field name")
        op_kind, op, op_at = self.take("an operator")
        if op_kind == "word" and op.lower() in ("in", "is", "was", "not", "changed"):
            op = op.lower()
        elif op_kind != "op":
            raise self.fail((op_kind, op, op_at), "an operator")
        if op != "in":
            value_kind, value, value_at = self.take("a value")
            if value_kind not in ("word", "quoted") or op in ("is", "was", "not", "changed"):
                raise JqlError(f"The sandbox Jira does not emulate the operator '{op.upper()}' or that value "
                               f"(line 1, character {op_at}).")
            if value_kind == "word" and self.peek_is_call():
                raise JqlError(f"The sandbox Jira does not emulate the JQL function '{value}()'.")
            return Clause(name.lower(), op, (value,))
        if self.take("'('")[:2] != ("punct", "("):
            raise self.fail(self.tokens[self.pos - 1], "'('")
        values: list[str] = []
        while True:
            value_kind, value, _ = self.take("a value")
            if value_kind not in ("word", "quoted"):
                raise self.fail(self.tokens[self.pos - 1], "a value")
            values.append(value)
            sep = self.take("',' or ')'")
            if sep[:2] == ("punct", ")"):
                return Clause(name.lower(), "in", tuple(values))
            if sep[:2] != ("punct", ","):
                raise self.fail(sep, "',' or ')'")

    def peek_is_call(self) -> bool:
        return self.pos < len(self.tokens) and self.tokens[self.pos][:2] == ("punct", "(")


def parse_jql(jql: str) -> Query:
    """The query, or JqlError with a message in Jira's words for what it does not understand."""
    return _Parser(jql or "").parse()


def _instant(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def _jql_date(text: str, field: str, zone: tzinfo, now: datetime) -> datetime:
    relative = _RELATIVE.match(text.strip())
    if relative:
        sign, amount, unit = relative.groups()
        delta = timedelta(**{_UNITS[unit]: int(amount)})
        return now - delta if sign == "-" else now + delta
    for fmt in _DATE_FORMATS:
        try:
            # Jira reads the literal in the searching account's time zone.
            return datetime.strptime(text.strip(), fmt).replace(tzinfo=zone)
        except ValueError:
            continue
    raise JqlError(
        f"Date value '{text}' for field '{field}' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', "
        "'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'."
    )


def _predicate(clause: Clause, zone: tzinfo, now: datetime) -> Callable[[JiraIssue], bool]:
    """What one clause keeps; checked before any issue is looked at, as Jira validates the whole query."""
    field, op, values = clause.field, clause.op, clause.values
    if field in ("project", "key", "issuekey", "id", "labels") and op not in ("=", "in"):
        raise JqlError(f"The operator '{op}' is not supported by the '{field}' field.")
    if field == "project":
        for value in values:
            if value.upper() not in (PROJECT["key"], PROJECT["id"]):
                raise JqlError(f"The value '{value}' does not exist for the field 'project'.")
        return lambda issue: True  # the site has one project
    if field in ("key", "issuekey", "id"):
        wanted = {v.upper() for v in values}
        return lambda issue: issue.key in wanted or issue.id in wanted
    if field == "labels":
        labels = set(values)
        return lambda issue: bool(labels & set(issue.fields.get("labels") or []))
    if field in _DATE_FIELDS:
        name = _DATE_FIELDS[field]
        if op not in _COMPARE:
            raise JqlError(f"The operator '{op}' is not supported by the '{name}' field.")
        limit = _jql_date(values[0], name, zone, now)
        compare = _COMPARE[op]
        return lambda issue: compare(_instant(issue.updated if name == "updated" else issue.created), limit)
    raise JqlError(
        f"Field '{field}' is not emulated by the sandbox Jira: only project, key, id, labels, created and "
        "updated can be searched."
    )


def run_query(state: JiraState, query: Query, zone: tzinfo) -> list[JiraIssue]:
    """Matching issues in the query's order (id descending when it names none). Hold `state.lock`."""
    now = datetime.now(UTC)
    keep = [_predicate(c, zone, now) for c in query.clauses]
    found = [i for i in sorted(state.issues.values(), key=lambda i: int(i.id), reverse=True)
             if all(k(i) for k in keep)]
    for field, descending in reversed(query.order):
        def sort_key(issue: JiraIssue, field: str = field) -> tuple[Any, ...]:
            if field in ("updated", "created"):
                return (_instant(issue.updated if field == "updated" else issue.created), int(issue.id))
            return (int(issue.id),)  # keys of one project sort like their ids

        found.sort(key=sort_key, reverse=descending)
    return found


# --- pages -----------------------------------------------------------------------------------


def _page_token(jql: str, offset: int) -> str:
    raw = json.dumps({"q": hashlib.sha256(jql.encode()).hexdigest()[:16], "o": offset}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _token_offset(jql: str, token: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if data["q"] == hashlib.sha256(jql.encode()).hexdigest()[:16] and int(data["o"]) >= 0:
            return int(data["o"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        pass
    raise JqlError("The provided next page token is invalid or expired.")


def _wanted(fields: list[str] | None, cloud: bool) -> set[str] | None:
    """The fields to render; None for "id only" (Cloud's default)."""
    names = [f.strip() for f in fields or [] if f.strip()]
    if not names:
        return None if cloud else set(_NAVIGABLE)
    wanted: set[str] = set()
    for name in names:
        if name in ("*all", "*navigable"):
            wanted |= _NAVIGABLE | {"comment", "created", "reporter", "labels", "description", "issuetype",
                                    "project", "attachment"}
        elif not name.startswith("-"):
            wanted.add(name)
    wanted -= {n[1:] for n in names if n.startswith("-")}
    return wanted


def expansions(expand: object) -> set[str]:
    """The names in an `expand` value: "a,b" (query strings, Cloud's POST body) or ["a", "b"] (DC's POST body)."""
    names = expand.split(",") if isinstance(expand, str) else expand if isinstance(expand, list) else []
    return {n.strip() for n in names if isinstance(n, str) and n.strip()}


def _render(views: Views, state: JiraState, issue: JiraIssue, wanted: set[str] | None,
            comment_cap: int | None, changelog: bool, history_cap: int | None) -> dict[str, Any]:
    out = _render_fields(views, state, issue, wanted, comment_cap)
    if changelog:  # no expand, no changelog: the history is sent only when asked for, as Jira does
        out["changelog"] = views.changelog(issue, history_cap)
    return out


def _render_fields(views: Views, state: JiraState, issue: JiraIssue, wanted: set[str] | None,
                   comment_cap: int | None) -> dict[str, Any]:
    if wanted is None or wanted <= {"id"}:
        return {"id": issue.id}
    # Views renders every field for an empty set: {"id"} (not a field) renders none.
    out = views.issue(issue, state.screen(issue.issue_type_id), wanted - {"comment"} or {"id"})
    if "comment" in wanted:
        shown = issue.comments if comment_cap is None else issue.comments[:comment_cap]
        out["fields"]["comment"] = {
            "comments": [views.comment(issue, c) for c in shown],
            "self": f"{views.api}/issue/{issue.id}/comment",
            "maxResults": len(shown),
            "total": len(issue.comments),
            "startAt": 0,
        }
    return out


def search_answer(
    state: JiraState, views: Views, options: JiraSiteOptions, *, jql: str, max_results: int,
    fields: list[str] | None, start_at: int = 0, page_token: str | None = None, expand: object = None,
) -> dict[str, Any]:
    """The search answer of the flavour `views` renders; raises JqlError for a query Jira would refuse."""
    cloud = views.cloud
    query = parse_jql(jql)
    if cloud and not query.clauses:
        raise JqlError("Unbounded JQL queries are not allowed here. Please add a search restriction to your query.")
    with state.lock:
        found = run_query(state, query, options.zone())
        offset = _token_offset(jql, page_token) if cloud and page_token else (0 if cloud else max(0, start_at))
        size = max(0, min(max_results, options.cloud_page_cap if cloud else options.dc_page_cap))
        cap = options.cloud_search_comments if cloud else options.dc_search_comments
        wanted = _wanted(fields, cloud)
        changelog = "changelog" in expansions(expand)
        issues = [_render(views, state, i, wanted, cap, changelog, options.cloud_changelog_histories)
                  for i in found[offset: offset + size]]
    if cloud:
        answer: dict[str, Any] = {"issues": issues, "isLast": offset + size >= len(found)}
        if not answer["isLast"]:
            answer["nextPageToken"] = _page_token(jql, offset + size)
        return answer
    return {"expand": "schema,names", "startAt": offset, "maxResults": size, "total": len(found), "issues": issues}
