"""PHI verdicts on outbound text: pure data, no detector here.

A finding names the escalation form's field and a span in that field's text; it never
carries the text itself, so findings can be logged, stored and returned freely.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from escalink.domain.draft import PhiAction, Problem

__all__ = ["FieldFinding", "PhiAction", "PhiBlocked"]
from escalink.domain.errors import DraftRejected


@dataclass(frozen=True, slots=True)
class FieldFinding:
    field: str  # the form's field, e.g. "summary", "steps_to_reproduce[1]", "attachment_ids[0]"
    label: str
    start: int
    end: int
    score: float
    recognizer: str

    def as_problem(self) -> Problem:
        return Problem(
            self.field,
            "phi",
            f"Looks like {self.label} (characters {self.start}-{self.end}). PHI must stay in Zendesk internal "
            "notes: remove it, redact it, or move it to an internal note.",
        )


class PhiBlocked(DraftRejected):
    """Text bound for Jira holds PHI and the agent has not chosen what to do: nothing was sent.

    `problems` holds every problem of the draft (policy ones too), so one answer says everything.
    """

    title = "Protected health information must not reach Jira"

    def __init__(self, findings: list[FieldFinding], redacted: dict[str, str], problems: Sequence[Problem]):
        super().__init__(
            "PHI was found in text bound for Jira; nothing was sent. Redact it, move it to an internal note, "
            "or override a false positive with a reason.",
            problems=problems,
        )
        self.findings = findings
        self.redacted = redacted
