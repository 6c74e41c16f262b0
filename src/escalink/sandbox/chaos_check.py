"""The chaos run's verdict: what the emulators hold after the run, compared with what was sent.

Pure functions over the JSON of `GET /_sandbox/state` on both emulators (see `inspect_routes`)
and the harness's own record, so the comparison can be tested on a hand-made state.

An issue belongs to a ticket when it carries the label of one of the ticket's escalations
(`escalink-<first 12 hex of the escalation id>`) or, failing that, when its summary names the
ticket ("chaos case <id>", which every chaos draft's summary starts with). Counted:

- lost: a ticket that was sent and has no issue (by its escalations' labels when the client got
  an escalation id, by summary otherwise);
- duplicate_issues: issues beyond the first, per ticket (so two issues under one label count too);
- duplicate_notes: copies of a Jira reply beyond the first in the ticket's internal notes, copies
  in the notes of other tickets, and "Escalated to Jira" notes beyond the first;
- missing_notes: Jira replies found in no internal note of their ticket, and escalated (not lost)
  tickets without their "Escalated to Jira" note;
- dead: jobs Escalink reports dead.

Copies of replies (or of the escalation note) in PUBLIC comments are shown but not counted on
their own: a reply that reached the ticket only publicly is already a missing note.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from escalink.sandbox.chaos_cases import CASE_PREFIX, REPLY_PREFIX
from escalink.services.escalate import escalation_label

REPLY_RE = re.compile(re.escape(REPLY_PREFIX) + r" (\d{5})\b")
CASE_RE = re.compile(re.escape(CASE_PREFIX) + r" (\d+)\b")
ESCALATION_NOTE = "Escalated to Jira "


@dataclass(slots=True)
class Expected:
    """What the harness did: tickets sent (with the escalation ids it was given) and replies made.

    `replies` maps a reply's number to the ticket whose issue it was posted on.
    """

    escalations: dict[int, list[str]] = field(default_factory=dict)
    replies: dict[int, int] = field(default_factory=dict)


@dataclass(slots=True)
class Verdict:
    lost: list[int] = field(default_factory=list)
    issues_by_ticket: dict[int, list[str]] = field(default_factory=dict)
    label_duplicates: int = 0
    duplicate_replies: dict[int, int] = field(default_factory=dict)  # reply -> extra copies
    duplicate_escalation_notes: dict[int, int] = field(default_factory=dict)  # ticket -> extra notes
    missing_replies: list[int] = field(default_factory=list)
    missing_escalation_notes: list[int] = field(default_factory=list)
    public_copies: int = 0
    dead: int = 0

    @property
    def duplicate_issues(self) -> int:
        return sum(len(keys) - 1 for keys in self.issues_by_ticket.values() if len(keys) > 1)

    @property
    def duplicate_notes(self) -> int:
        return sum(self.duplicate_replies.values()) + sum(self.duplicate_escalation_notes.values())

    @property
    def missing_notes(self) -> int:
        return len(self.missing_replies) + len(self.missing_escalation_notes)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicate_issues or self.duplicate_notes or self.missing_notes or self.dead)


def issue_tickets(expected: Expected, issues: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Issue key -> chaos ticket, for every issue that belongs to one (see the module doc)."""
    by_label = {escalation_label(e): t for t, ids in expected.escalations.items() for e in ids}
    out: dict[str, int] = {}
    for issue in issues:
        owner = next((by_label[lb] for lb in issue.get("labels") or [] if lb in by_label), None)
        if owner is None:
            match = CASE_RE.search(str(issue.get("summary") or ""))
            if match and int(match.group(1)) in expected.escalations:
                owner = int(match.group(1))
        if owner is not None:
            out[str(issue["key"])] = owner
    return out


def compare(expected: Expected, jira: Mapping[str, Any], zendesk: Mapping[str, Any], dead: int) -> Verdict:
    """The verdict for one run; `jira` and `zendesk` are the emulators' `/_sandbox/state` JSON."""
    issues = list(jira.get("issues") or [])
    verdict = Verdict(dead=dead)
    owners = issue_tickets(expected, issues)
    for key, ticket in owners.items():
        verdict.issues_by_ticket.setdefault(ticket, []).append(key)
    labels = Counter(lb for i in issues if str(i["key"]) in owners for lb in i.get("labels") or []
                     if lb.startswith("escalink-"))
    verdict.label_duplicates = sum(n - 1 for n in labels.values() if n > 1)
    verdict.lost = sorted(t for t in expected.escalations if t not in verdict.issues_by_ticket)

    replies = dict(expected.replies)
    for issue in issues:  # replies in Jira the harness lost track of still need their note
        for comment in issue.get("comments") or []:
            for number in REPLY_RE.findall(str(comment.get("body") or "")):
                if int(number) not in replies and str(issue["key"]) in owners:
                    replies[int(number)] = owners[str(issue["key"])]

    copies: dict[int, Counter[int]] = defaultdict(Counter)  # reply -> ticket -> copies in internal notes
    escalation_notes: Counter[int] = Counter()
    for ticket in zendesk.get("tickets") or []:
        tid = int(ticket["id"])
        for comment in ticket.get("comments") or []:
            body = str(comment.get("body") or "")
            found = REPLY_RE.findall(body)
            if comment.get("public"):
                verdict.public_copies += len(found) + (1 if body.startswith(ESCALATION_NOTE) else 0)
                continue
            for number in found:
                copies[int(number)][tid] += 1
            if body.startswith(ESCALATION_NOTE):
                escalation_notes[tid] += 1

    for number, ticket in sorted(replies.items()):
        on_ticket = copies[number][ticket]
        elsewhere = sum(n for t, n in copies[number].items() if t != ticket)
        if on_ticket == 0:
            verdict.missing_replies.append(number)
        extra = max(0, on_ticket - 1) + elsewhere
        if extra:
            verdict.duplicate_replies[number] = extra
    for number in sorted(set(copies) - set(replies)):  # a note quoting a reply nobody made
        verdict.duplicate_replies[number] = sum(copies[number].values())

    for ticket in expected.escalations:
        notes = escalation_notes[ticket]
        if notes == 0 and ticket not in verdict.lost:
            verdict.missing_escalation_notes.append(ticket)
        elif notes > 1:
            verdict.duplicate_escalation_notes[ticket] = notes - 1
    return verdict


def report_lines(verdict: Verdict, *, store: str, escalations: int, events: int) -> list[str]:
    """A readable table, then the summary line (always last)."""
    def row(name: str, value: int, detail: str = "") -> str:
        return f"  {name:<34}{value:>6}  {detail}".rstrip()

    def sample(items: Iterable[object]) -> str:
        listed = [str(i) for i in items]
        return "" if not listed else "e.g. " + ", ".join(listed[:8]) + (" …" if len(listed) > 8 else "")

    dup_tickets = {t: k for t, k in verdict.issues_by_ticket.items() if len(k) > 1}
    lines = [
        "check                                 count",
        row("lost escalations", len(verdict.lost), sample(f"#{t}" for t in verdict.lost)),
        row("duplicate issues (per ticket)", verdict.duplicate_issues,
            sample(f"#{t}: {'/'.join(k)}" for t, k in dup_tickets.items())),
        row("  of which under one label", verdict.label_duplicates),
        row("duplicate reply notes", sum(verdict.duplicate_replies.values()), sample(verdict.duplicate_replies)),
        row("duplicate 'Escalated to Jira' notes", sum(verdict.duplicate_escalation_notes.values()),
            sample(f"#{t}" for t in verdict.duplicate_escalation_notes)),
        row("missing reply notes", len(verdict.missing_replies), sample(verdict.missing_replies)),
        row("missing 'Escalated to Jira' notes", len(verdict.missing_escalation_notes),
            sample(f"#{t}" for t in verdict.missing_escalation_notes)),
        row("copies in public comments", verdict.public_copies),
        row("jobs left dead", verdict.dead),
        f"chaos: store {store} escalations {escalations} events {events} lost {len(verdict.lost)} "
        f"duplicate_issues {verdict.duplicate_issues} duplicate_notes {verdict.duplicate_notes} "
        f"missing_notes {verdict.missing_notes} dead {verdict.dead}",
    ]
    return lines
