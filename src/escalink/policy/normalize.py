"""Reading what agents type: numbered steps, member UUIDs, free text.

Agents paste steps the way the guide shows them ("1. Opened app 2. Clicked
settings 3. Saw 403 error message"), one per line, or as bullets; all of these
are read as an ordered list. Numbers are only taken as step markers when they
run in sequence (1, 2, 3...), so "Saw 403. Then" or "version 2.5" stay text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# RFC 4122: 8-4-4-4-12 hex, version 1-5 in the third group, variant 10xx in the fourth.
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", re.I | re.A)

# A step marker: "1." / "1)" / "Step 1:" at the start or after whitespace, followed by
# whitespace or a letter ("1.Opened" happens), never by a digit ("2.5").
_MARKER = re.compile(
    r"(?<!\S)(?:step\s*(?P<s>\d{1,3})\s*[.):-]?|(?P<n>\d{1,3})[.)])(?:\s+|(?=[^\W\d_]))",
    re.I,
)
_BULLET = re.compile(r"^[-*\u2022\u2013]\s+")

#: A parsed step: the number the agent wrote (None if unnumbered) and its text.
Step = tuple[int | None, str]


def is_member_uuid(text: str) -> bool:
    """True for an RFC 4122 UUID (versions 1-5) in canonical form.

    Surrounding whitespace and upper case are accepted; braces, `urn:uuid:`
    prefixes, missing dashes and the nil UUID are not.
    """
    return _UUID.fullmatch(text.strip()) is not None


def normalize_member_uuid(text: str) -> str:
    return text.strip().lower()


def clean_line(text: str) -> str:
    """One line of text: every run of whitespace (newlines too) becomes one space."""
    return " ".join(text.split())


def clean_text(text: str) -> str:
    """Multi-line text: unified line endings, no trailing spaces, no blank edges."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines).strip()


def _parse_segment(segment: str) -> list[Step]:
    chosen: list[tuple[re.Match[str], int]] = []
    for m in _MARKER.finditer(segment):
        n = int(m.group("s") or m.group("n"))
        if not chosen:
            if m.start() == 0 or n == 1:
                chosen.append((m, n))
        elif n == chosen[-1][1] + 1:
            chosen.append((m, n))
    # A lone "1)" in mid-sentence is not a list; a list needs a leading marker or two in a row.
    if chosen and chosen[0][0].start() != 0 and len(chosen) < 2:
        chosen = []
    text = segment.strip()
    if not chosen:
        return [(None, clean_line(text))] if text else []
    steps: list[Step] = []
    lead = clean_line(segment[: chosen[0][0].start()])
    if lead and not lead.endswith(":"):  # "Steps:" is a heading, not a step
        steps.append((None, lead))
    for i, (m, n) in enumerate(chosen):
        end = chosen[i + 1][0].start() if i + 1 < len(chosen) else len(segment)
        steps.append((n, clean_line(segment[m.end() : end])))
    return steps


def parse_steps(text: str) -> list[Step]:
    """Every step in `text` with the number written before it, in order.

    Lines are read one by one (bullets dropped); within a line, sequential
    numbers split it into several steps. A numbered step left empty is kept as
    `(n, "")` so that callers can point at it.
    """
    steps: list[Step] = []
    for line in clean_text(text).split("\n"):
        line = _BULLET.sub("", line.strip())
        steps.extend(_parse_segment(line))
    return steps


def split_steps(text: str) -> list[str]:
    """The non-empty steps written in `text`, without their numbers or bullets.

    >>> split_steps("1. Opened app 2. Clicked settings 3. Saw 403 error message")
    ['Opened app', 'Clicked settings', 'Saw 403 error message']
    """
    return [step for _, step in parse_steps(text) if step]


def normalize_steps(items: Iterable[str]) -> list[str]:
    """A draft's steps as one flat ordered list, one step per item."""
    return [step for item in items for step in split_steps(item)]
