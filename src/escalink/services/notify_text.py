"""Texts of "Notify linked issues": the Jira comment, its marker line, and the PHI guard's rewrite.

Kept apart from the use case so the exact words Escalink posts (which inbound sync
recognises by the marker line) live in one small place.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from escalink.domain.draft import Problem
from escalink.domain.phi import FieldFinding, PhiAction
from escalink.ports.sync_store import DeliveryRecord
from escalink.services.phi_guard import note_markers, replace_spans

COMMENT_FIELD = "comment"
REASONS = {
    "too_large": "larger than Jira's attachment limit",
    "download_failed": "could not be downloaded from Zendesk",
    "upload_failed": "Jira did not accept the upload",
}


def comment_marker(ticket_id: int, ref: str) -> str:
    """The last line of every comment Escalink posts, so inbound sync can ignore its echo."""
    return f"(sent from Zendesk ticket #{ticket_id} via Escalink, ref {ref})"


def ref_of(notification_id: str) -> str:
    """The short reference agents and Jira users see: the notification id's first 8 hex digits."""
    return notification_id.replace("-", "")[:8]


def file_field(index: int) -> str:
    return f"attachment_ids[{index}]"


@dataclass(frozen=True, slots=True)
class FilePlan:
    """One chosen Zendesk attachment as it goes to every target (names already PHI-checked)."""

    id: int
    file_name: str
    content_type: str
    size: int
    url: str  # its Zendesk address, sent instead of the file when it cannot be attached
    sticky_reason: str | None = None  # "too_large": never uploaded, on any attempt

    def detail(self, outcome: str, reason: str | None = None, message: str | None = None) -> dict[str, Any]:
        return {"attachment_id": self.id, "file_name": self.file_name, "content_type": self.content_type,
                "size": self.size, "url": self.url, "sticky_reason": self.sticky_reason,
                "outcome": outcome, "reason": reason, "message": message}

    @classmethod
    def from_detail(cls, d: Mapping[str, Any]) -> FilePlan:
        return cls(int(d["attachment_id"]), str(d["file_name"]), str(d.get("content_type") or ""),
                   int(d.get("size") or 0), str(d.get("url") or ""), d.get("sticky_reason"))


def render_comment(body: str, linked: Sequence[tuple[FilePlan, str]], ticket_id: int, ref: str) -> str:
    """The Jira comment: the agent's text, files sent as addresses, then the marker line."""
    parts = [body.strip()] if body.strip() else []
    if linked:
        lines = ["Files kept in Zendesk (open them there):"]
        lines += [f"- {f.file_name} ({human_size(f.size)}, {REASONS.get(reason, reason)}): {f.url}"
                  for f, reason in linked]
        parts.append("\n".join(lines))
    parts.append(comment_marker(ticket_id, ref))
    return "\n\n".join(parts)


def human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} bytes"


def address_without_name(url: str) -> str:
    # Zendesk content URLs repeat the file name in `?name=`; when the name was flagged as PHI
    # it must not reach Jira through the address either. The token alone identifies the file.
    parsed = httpx.URL(url)
    if "name" not in parsed.params:
        return url
    return str(parsed.copy_with(params=parsed.params.remove("name")))


@dataclass(slots=True)
class GuardedNotice:
    body: str
    file_names: dict[int, str]
    note_lines: list[str]


def guard_notice(
    action: PhiAction,
    body: str,
    file_names: Mapping[int, str],
    order: Sequence[int],
    findings: Sequence[FieldFinding],
    ticket_id: int,
) -> GuardedNotice:
    """The comment and file names after the agent's PHI choice (BLOCK is refused by the caller)."""
    names = dict(file_names)
    if action is PhiAction.OVERRIDE or not findings:
        return GuardedNotice(body, names, [])
    note: list[str] = []
    by_field: dict[str, list[FieldFinding]] = {}
    for f in findings:
        by_field.setdefault(f.field, []).append(f)
    for name, spans in by_field.items():
        spans.sort(key=lambda f: f.start)
        if name == COMMENT_FIELD:
            if action is PhiAction.REDACT:
                body = replace_spans(body, spans, lambda f: f"[{f.label}]")
            else:
                note.append(f"Comment: {body}")
                body = replace_spans(body, spans, note_markers(ticket_id), merge_gap=True)
            continue
        aid = order[int(name[len("attachment_ids["):-1])]
        if action is PhiAction.REDACT:
            names[aid] = replace_spans(names[aid], spans, lambda f: f"[{f.label}]")
        else:
            # A file name cannot carry the marker sensibly: a neutral name, mapped in the note.
            neutral = f"attachment-{aid}{os.path.splitext(names[aid])[1]}"
            note.append(f"Attachment sent to Jira as {neutral}: {names[aid]}")
            names[aid] = neutral
    return GuardedNotice(body, names, note)


def agent_warnings(deliveries: Sequence[DeliveryRecord], limit: int) -> list[Problem]:
    """What the agent must know: failed issues, and files sent as their Zendesk address."""
    out: list[Problem] = []
    seen: set[tuple[object, ...]] = set()
    for d in deliveries:
        if d.state == "failed":
            out.append(Problem(f"deliveries[{d.id}]", "failed",
                               f"Not delivered to {d.jira_key}: {d.error} Retry this delivery alone."))
        for x in d.details:
            if x.get("outcome") != "linked" or d.state != "sent":
                continue
            reason = str(x.get("reason"))
            key: tuple[object, ...] = (x["attachment_id"], reason) if reason != "upload_failed" else (
                x["attachment_id"], reason, d.jira_key)
            if key in seen:
                continue
            seen.add(key)
            where = f" by {d.jira_key}" if reason == "upload_failed" else ""
            size = human_size(int(str(x.get("size") or 0)))
            why = {"too_large": f"({size}) is over Jira's attachment limit of {human_size(limit)}",
                   "download_failed": "could not be downloaded from Zendesk",
                   "upload_failed": f"was not accepted{where}"}.get(reason, reason)
            out.append(Problem("attachments", reason,
                               f"{x['file_name']} {why}: sent as its Zendesk address in the comment instead."))
    return out
