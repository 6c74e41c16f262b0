"""What a scan returns."""

from __future__ import annotations

from dataclasses import dataclass

LABELS: tuple[str, ...] = ("NAME", "DATE", "PHONE", "EMAIL", "ADDRESS", "SSN", "ID", "URL", "IP", "CLINICAL")


@dataclass(frozen=True, slots=True)
class Finding:
    """A span of text judged to be PHI: `text[start:end]` carries `label` with confidence `score`."""

    label: str
    start: int
    end: int
    score: float
    recognizer: str

    def as_span(self) -> dict[str, int | str]:
        return {"start": self.start, "end": self.end, "label": self.label}
