"""Show PHI findings in the page: each flagged span wrapped in <mark> with its label, all else escaped."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from markupsafe import Markup, escape

from escalink.domain.phi import FieldFinding


def for_field(findings: Iterable[FieldFinding], field: str) -> list[FieldFinding]:
    """The findings of one form field ("summary", "steps_to_reproduce[1]", ...), in text order."""
    return sorted((f for f in findings if f.field == field), key=lambda f: (f.start, -f.end))


def highlight(text: str, findings: Sequence[FieldFinding]) -> Markup:
    """The text, HTML-escaped, with every finding marked; overlapping findings merge into the first."""
    out: list[str] = []
    pos = 0
    for f in sorted(findings, key=lambda f: (f.start, -f.end)):
        start, end = max(f.start, pos), min(f.end, len(text))
        if start >= end:
            continue
        out.append(str(escape(text[pos:start])))
        out.append(f'<mark class="phi" data-label="{escape(f.label)}" title="Looks like {escape(f.label)}">'
                   f"{escape(text[start:end])}<sup>{escape(f.label)}</sup></mark>")
        pos = end
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))
