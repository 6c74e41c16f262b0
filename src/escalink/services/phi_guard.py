"""The PHI guard: every text bound for the tracker is scanned, and PHI is refused or moved.

The detector is injected (a `scan(text, field)` callable) so the guard stays testable and
the composition root decides which detector runs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from escalink.domain.draft import Problem
from escalink.domain.errors import DraftRejected
from escalink.domain.phi import FieldFinding, PhiAction
from escalink.domain.records import Attachment, Comment, IssueSpec
from escalink.ports.store import PhiDecisionRecord


class Span(Protocol):
    """What a detector returns for one finding (escalink.phi.model.Finding fits)."""

    @property
    def label(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def score(self) -> float: ...
    @property
    def recognizer(self) -> str: ...


Scanner = Callable[[str, str], Sequence[Span]]

# Which detector field kind each form field is (the detector tunes context per kind).
DETECTOR_FIELD = {
    "summary": "summary",
    "description": "description",
    "steps_to_reproduce": "steps",
    "expected_result": "description",
    "actual_result": "description",
    "attachment_ids": "filename",
    "comment": "comment",
}


def note_marker(ticket_id: int) -> str:
    return f"[details in Zendesk ticket #{ticket_id}, internal note]"


SAME_NOTE = "[more in the same note]"


def note_markers(ticket_id: int) -> Callable[[FieldFinding], str]:
    """Replacements for one text's moved spans: the full pointer once, then a short one, so a
    description with three moved details does not repeat the ticket's pointer three times."""
    used = False

    def marker(_: FieldFinding) -> str:
        nonlocal used
        first, used = not used, True
        return note_marker(ticket_id) if first else SAME_NOTE
    return marker


def content_hash(texts: Sequence[str]) -> str:
    """A hash that lets an auditor match a decision to a text they hold, without storing the text."""
    return hashlib.sha256("\x1f".join(texts).encode()).hexdigest()


@dataclass(slots=True)
class Guarded:
    """The outbound texts after the agent's choice, and what must go to the internal note instead."""

    spec: IssueSpec
    file_names: dict[int, str]
    note_lines: list[str] = field(default_factory=list)


class PhiGuard:
    def __init__(self, scanner: Scanner):
        self.scanner = scanner

    def scan(self, text: str, form_field: str) -> list[FieldFinding]:
        kind = DETECTOR_FIELD.get(form_field.split("[", 1)[0], "description")
        return [
            FieldFinding(form_field, s.label, s.start, s.end, s.score, s.recognizer)
            for s in self.scanner(text, kind)
        ]

    def override_problems(self, action: PhiAction, reason: str | None) -> list[Problem]:
        """An override needs a reason that is itself free of PHI (it is kept in the audit record)."""
        if action is not PhiAction.OVERRIDE:
            return []
        reason = (reason or "").strip()
        if len(reason) < 10:
            return [Problem("phi_override_reason", "required",
                            "Overriding the PHI check needs a reason (at least 10 characters); it is audited.")]
        if self.scan(reason, "phi_override_reason"):
            return [Problem("phi_override_reason", "phi", "The reason itself looks like PHI: describe, don't quote.")]
        return []

    @staticmethod
    def decision_record(
        *, ticket_id: int, escalation_id: str | None, agent_email: str, action: PhiAction, reason: str | None,
        findings: Sequence[FieldFinding], texts: dict[str, str],
    ) -> PhiDecisionRecord:
        """What is kept of a PHI decision: labels, positions and a hash of the flagged texts, never the texts."""
        flagged = sorted({f.field for f in findings})
        return PhiDecisionRecord(
            ticket_id=ticket_id,
            escalation_id=escalation_id,
            agent_email=agent_email,
            action=str(action),
            reason=reason if action is PhiAction.OVERRIDE else None,
            findings=tuple({"field": f.field, "label": f.label, "start": f.start, "end": f.end,
                            "recognizer": f.recognizer, "score": round(f.score, 3)} for f in findings),
            content_hash=content_hash([texts.get(name, "") for name in flagged]),
        )

    @staticmethod
    def texts(spec: IssueSpec, file_names: dict[int, str], attachment_order: Sequence[int]) -> dict[str, str]:
        """Every outbound text keyed by the form field it came from."""
        out = {"summary": spec.summary, "description": spec.description,
               "expected_result": spec.expected_result, "actual_result": spec.actual_result}
        out.update({f"steps_to_reproduce[{i}]": s for i, s in enumerate(spec.steps_to_reproduce)})
        out.update({f"attachment_ids[{i}]": file_names[a] for i, a in enumerate(attachment_order) if a in file_names})
        return {k: v for k, v in out.items() if v}

    def scan_texts(self, texts: dict[str, str]) -> list[FieldFinding]:
        return [f for name, text in texts.items() for f in self.scan(text, name)]

    @staticmethod
    def redacted_preview(texts: dict[str, str], findings: Sequence[FieldFinding]) -> dict[str, str]:
        return {name: replace_spans(texts[name], _spans_of(findings, name), lambda f: f"[{f.label}]")
                for name in sorted({f.field for f in findings})}

    def apply(
        self,
        action: PhiAction,
        spec: IssueSpec,
        file_names: dict[int, str],
        attachment_order: Sequence[int],
        findings: Sequence[FieldFinding],
        ticket_id: int,
    ) -> Guarded:
        """Rewrite the outbound texts per the agent's choice (BLOCK is handled by the caller)."""
        if action is PhiAction.OVERRIDE or not findings:
            return Guarded(spec, dict(file_names))
        texts = self.texts(spec, file_names, attachment_order)
        new: dict[str, str] = {}
        note: list[str] = []
        for name in sorted({f.field for f in findings}, key=list(texts).index):
            spans = _spans_of(findings, name)
            if action is PhiAction.REDACT:
                new[name] = replace_spans(texts[name], spans, lambda f: f"[{f.label}]")
            elif name.startswith("attachment_ids["):
                # A file name cannot hold the marker sensibly: send a neutral name, map it in the note.
                aid = attachment_order[int(name[len("attachment_ids["):-1])]
                ext = os.path.splitext(texts[name])[1]
                new[name] = f"attachment-{aid}{ext}"
                note.append(f"Attachment sent to Jira as {new[name]}: {texts[name]}")
            else:
                new[name] = replace_spans(texts[name], spans, note_markers(ticket_id), merge_gap=True)
                note.append(f"{_label(name)}: {texts[name]}")
        return Guarded(_rewrite(spec, new), _rewrite_files(file_names, attachment_order, new), note)


def _label(name: str) -> str:
    base, _, idx = name.partition("[")
    pretty = base.replace("_", " ").capitalize()
    return f"{pretty} (step {int(idx[:-1]) + 1})" if idx else pretty


def _spans_of(findings: Sequence[FieldFinding], name: str) -> list[FieldFinding]:
    return sorted((f for f in findings if f.field == name), key=lambda f: f.start)


def replace_spans(
    text: str, spans: Sequence[FieldFinding], repl: Callable[[FieldFinding], str], merge_gap: bool = False
) -> str:
    """Replace spans (sorted, possibly overlapping); with merge_gap, spans separated only by spaces
    and punctuation become one replacement, so a moved name-and-birth-date reads as one marker."""
    out: list[str] = []
    pos = 0
    for f in spans:
        start = max(f.start, pos)
        if start >= f.end:
            continue
        gap = text[pos:start]
        if merge_gap and out and pos > 0 and gap.strip(" ,;:()-/") == "":
            pos = f.end
            continue
        out.append(gap)
        out.append(repl(f))
        pos = f.end
    out.append(text[pos:])
    return "".join(out)


def _rewrite(spec: IssueSpec, new: dict[str, str]) -> IssueSpec:
    steps = tuple(new.get(f"steps_to_reproduce[{i}]", s) for i, s in enumerate(spec.steps_to_reproduce))
    return dataclasses.replace(
        spec,
        summary=new.get("summary", spec.summary),
        description=new.get("description", spec.description),
        expected_result=new.get("expected_result", spec.expected_result),
        actual_result=new.get("actual_result", spec.actual_result),
        steps_to_reproduce=steps,
    )


def _rewrite_files(file_names: dict[int, str], order: Sequence[int], new: dict[str, str]) -> dict[int, str]:
    out = dict(file_names)
    for i, aid in enumerate(order):
        if f"attachment_ids[{i}]" in new:
            out[aid] = new[f"attachment_ids[{i}]"]
    return out


def chosen_attachments(comments: Sequence[Comment], attachment_ids: Sequence[int], ticket_id: int) -> list[Attachment]:
    """The chosen attachments of a ticket (inline images included), or every unknown id as a problem."""
    by_id = {a.id: a for c in comments for a in c.attachments}
    problems = [
        Problem(f"attachment_ids[{i}]", "not_on_ticket", f"Attachment {aid} is not on ticket #{ticket_id}.")
        for i, aid in enumerate(attachment_ids)
        if aid not in by_id
    ]
    if problems:
        raise DraftRejected("Some chosen attachments are not on the ticket; nothing was sent.", problems=problems)
    return [by_id[aid] for aid in dict.fromkeys(attachment_ids)]
