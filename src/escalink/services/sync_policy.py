"""What a Jira event means for the linked Zendesk tickets, and how it reads in the internal note.

Pure functions over domain events and the policy's `sync` section, so every decision can be
tested as a table. What Escalink itself did in Jira (its own account's changes, comments ending
with its marker) is dropped by `drop_echoes` before a decision. Comment texts go into
internal notes only; they are never logged.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from escalink.domain.events import CommentEvent, FieldChange, Ignored, IssueChanged, IssueDeleted, JiraEvent
from escalink.policy.sync import SyncAction, SyncPolicy, strongest

# A move to another project reports these fields too; the move itself says it all.
_MOVE_FIELDS = frozenset({"key", "project"})
# Zendesk allows 64 KB per comment; a longer Jira comment is cut rather than refused.
MAX_QUOTED_CHARS = 20_000


# --- the marker on comments Escalink posts to Jira ----------------------------------------

# "(sent from Zendesk ticket #<id> via Escalink, ref <8 hex>)" at the very end of the comment,
# as it reads once Jira has rendered it: ADF flattened to text, or wiki markup (which escapes
# "#" as "\#"), possibly wrapped in emphasis, colour macros, links or HTML.
_MARKER = re.compile(
    r"\(?\s*sent\s+from\s+zendesk\s+ticket\s*#?\s*\d+\s+via\s+escalink\s*,?\s*ref\s*:?\s*[0-9a-f]{8}\s*\)?\s*\.?\s*$",
    re.IGNORECASE,
)
_HTML_TAG = re.compile(r"<[^<>]{0,300}>")
_WIKI_LINK = re.compile(r"\[([^\[\]|]*)\|[^\[\]]*\]")
_MD_LINK = re.compile(r"\[([^\[\]]*)\]\([^()\s]*\)")
_WIKI_MACRO = re.compile(r"\{[a-z]+(?::[^{}]*)?\}", re.IGNORECASE)
_ESCAPE = re.compile(r"\\(?=[^\w\s])")
_MARKUP = re.compile(r"[*_+~^|\[\]{}\"'`>?-]")


def is_escalink_comment(text: str) -> bool:
    """True when `text` ends with Escalink's marker, in any of the forms Jira renders it.

    Only the end counts: a person quoting an Escalink comment above their own reply is
    still a person answering.
    """
    flat = html.unescape(text)
    flat = _HTML_TAG.sub(" ", flat)
    flat = _WIKI_LINK.sub(r"\1", flat)
    flat = _MD_LINK.sub(r"\1", flat)
    flat = _WIKI_MACRO.sub(" ", flat)
    flat = _ESCAPE.sub("", flat)
    flat = _MARKUP.sub(" ", flat)
    return _MARKER.search(" ".join(flat.split())) is not None


def drop_echoes(event: JiraEvent, own_account: str) -> tuple[JiraEvent | None, str | None]:
    """The event without what Escalink itself did; (None, reason) when nothing is left."""
    own = own_account or None  # an unknown own account must not match events without an actor
    if isinstance(event, CommentEvent):
        if own is not None and own in (event.author_account, event.actor_account):
            return None, "own_change"
        return (None, "escalink_comment") if is_escalink_comment(event.body) else (event, None)
    if isinstance(event, IssueChanged):
        if own is not None and event.actor_account == own:
            return None, "own_change"
        if event.comment is not None and is_escalink_comment(event.comment.body):
            event = replace(event, comment=None)
    return event, None



@dataclass(frozen=True, slots=True)
class JiraDecision:
    """The policy's verdict on one Jira event.

    `action` is the strongest action among the event's categories. `changes` and `comment`
    are what the note describes: only the parts whose category is not ignored.
    """

    action: SyncAction
    categories: frozenset[str]
    changes: tuple[FieldChange, ...] = ()
    comment: CommentEvent | None = None
    moved_from: str | None = None
    deleted: bool = False


def categories_of(event: JiraEvent) -> frozenset[str]:
    """The sync categories an event falls into (see policy.sync.SYNC_CATEGORIES)."""
    if isinstance(event, CommentEvent):
        return frozenset({f"comment_{event.kind}"})
    if isinstance(event, IssueDeleted):
        return frozenset({"issue_deleted"})
    if isinstance(event, IssueChanged):
        found = {_change_category(event, c) for c in event.changes}
        found.discard(None)
        if event.previous_key:
            found.add("issue_moved")
        if event.comment is not None:
            found.add(f"comment_{event.comment.kind}")
        return frozenset(c for c in found if c is not None)
    return frozenset()


def _change_category(event: IssueChanged, change: FieldChange) -> str | None:
    if event.previous_key and change.field.strip().lower() in _MOVE_FIELDS:
        return None
    return change.category


def decide(event: JiraEvent, sync: SyncPolicy) -> JiraDecision:
    """What the policy does with an event; Ignored events and unknown kinds are ignored."""
    if isinstance(event, Ignored):
        return JiraDecision("ignore", frozenset())
    categories = categories_of(event)
    action = strongest([sync.action(c) for c in categories])
    if action == "ignore":
        return JiraDecision("ignore", categories)
    if isinstance(event, CommentEvent):
        return JiraDecision(action, categories, comment=event)
    if isinstance(event, IssueDeleted):
        return JiraDecision(action, categories, deleted=True)
    assert isinstance(event, IssueChanged)
    changes = tuple(
        c for c in event.changes
        if (cat := _change_category(event, c)) is not None and sync.action(cat) != "ignore"
    )
    comment = event.comment
    if comment is not None and sync.action(f"comment_{comment.kind}") == "ignore":
        comment = None
    moved = event.previous_key if event.previous_key and sync.action("issue_moved") != "ignore" else None
    return JiraDecision(action, categories, changes=changes, comment=comment, moved_from=moved)


# --- the note -------------------------------------------------------------------------------


def describe(event: JiraEvent, decision: JiraDecision, current_key: str) -> list[str]:
    """Paragraphs of the internal note for one event (empty when it is ignored)."""
    if decision.action == "ignore":
        return []
    who = _actor(event)
    parts: list[str] = []
    if decision.deleted:
        parts.append(f"The Jira issue {current_key} was deleted (by {who}); Escalink unlinked it from this ticket.")
    if decision.moved_from:
        parts.append(f"{who} moved the issue: {decision.moved_from} is now {current_key}.")
    for change in decision.changes:
        parts.append(f"{who} changed {change.field}: {_value(change.from_string)} → {_value(change.to_string)}")
    if decision.comment is not None:
        parts.append(_comment(decision.comment))
    return parts


def _comment(comment: CommentEvent) -> str:
    author = comment.author_display or comment.actor_display or "Someone in Jira"
    verb = {"created": "commented", "updated": "edited a comment", "deleted": "deleted a comment"}[comment.kind]
    restricted = f" (visible in Jira to {comment.visibility} only)" if comment.visibility else ""
    if comment.kind == "deleted" or not comment.body.strip():
        return f"{author} {verb}{restricted}."
    text = comment.body.strip()
    if len(text) > MAX_QUOTED_CHARS:
        text = text[:MAX_QUOTED_CHARS] + "\n[… cut here: read the rest in Jira]"
    return f"{author} {verb}{restricted}:\n{text}"


def _actor(event: JiraEvent) -> str:
    display = getattr(event, "actor_display", None)
    return display if isinstance(display, str) and display else "Someone in Jira"


def _value(raw: str | None) -> str:
    return f'"{raw}"' if raw else "(none)"


@dataclass
class IssueSection:
    """Everything one batch says about one Jira issue, under one heading in the note."""

    key: str
    url: str
    paragraphs: list[str]


def render_note(sections: list[IssueSection], extra: list[str], footer: str | None) -> str:
    """The ONE internal note a ticket gets per batch: a heading per issue, then its changes."""
    blocks: list[str] = []
    for s in sections:
        blocks.append(f"Jira update on {s.key}: {s.url}")
        blocks.extend(s.paragraphs)
    blocks.extend(extra)
    if footer:
        blocks.append(footer)
    return "\n\n".join(blocks)


# --- what a note carries: comments by (issue id, comment id, kind), changes by (issue id, history id, "changed")

Ref = tuple[str, str, str]
CHANGED = "changed"
REFS = re.compile(r"\b(\d+)/(\d+)/(created|updated|deleted|changed)\b")


def refs_of(event: JiraEvent) -> list[Ref]:
    """The refs under which an event's parts are noted once per ticket: its comment, and its change
    (the history id Jira gives the change, in webhooks and in the issue's changelog alike)."""
    refs: list[Ref] = []
    if isinstance(event, IssueChanged) and event.changelog_id is not None:
        refs.append((event.issue_id, event.changelog_id, CHANGED))
    comment = event.comment if isinstance(event, IssueChanged) else event
    if isinstance(comment, CommentEvent) and comment.comment_id is not None:
        refs.append((comment.issue_id, comment.comment_id, comment.kind))
    return refs


def without_refs(event: JiraEvent, noted: set[Ref]) -> JiraEvent | None:
    """The event without its parts already noted (see `refs_of`); None when nothing is left."""
    if isinstance(event, CommentEvent):
        return None if any(r in noted for r in refs_of(event)) else event
    if not isinstance(event, IssueChanged):
        return event
    if event.changelog_id is not None and (event.issue_id, event.changelog_id, CHANGED) in noted:
        event = replace(event, changes=(), previous_key=None)
    if event.comment is not None and any(r in noted for r in refs_of(event.comment)):
        event = replace(event, comment=None)
    return event if event.changes or event.previous_key or event.comment is not None else None


def refs_line(refs: Iterable[Ref]) -> str:
    """The line before the sync marker of a note: the Jira comments and changes it carries
    (issue id/comment id/kind, issue id/history id/changed)."""
    return "(Escalink refs: " + " ".join("/".join(k) for k in refs) + ")"


def noted_refs(bodies: Iterable[str]) -> set[Ref]:
    """Every comment and change ref in the Escalink ref lines of a ticket's comments."""
    found: set[tuple[str, str, str]] = set()
    for body in bodies:
        for line in body.splitlines():
            if line.startswith("(Escalink refs:"):
                found.update((a, b, c) for a, b, c in REFS.findall(line))
    return found


EVENTS = re.compile(r"^\(Escalink ref sync ([\d,]+)\)$", re.M)


def events_line(record_ids: Iterable[int]) -> str:
    """The idempotency marker of a sync note: the stored webhook events (inbound records) it carries."""
    return "(Escalink ref sync " + ",".join(str(i) for i in sorted(set(record_ids))) + ")"


def noted_events(bodies: Iterable[str]) -> set[int]:
    """Every inbound record id named in the sync markers of a ticket's comments."""
    return {int(i) for body in bodies for group in EVENTS.findall(body) for i in group.split(",")}
