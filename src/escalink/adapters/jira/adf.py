"""Plain text to Atlassian Document Format (ADF), the rich-text format of Jira Cloud REST v3.

Only what escalations need: paragraphs with line breaks, an ordered list of steps,
and "Expected:" / "Actual:" labelled paragraphs. Text is never interpreted as
markup, so nothing an agent types can change the document's structure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

Node = dict[str, Any]

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def doc(content: Sequence[Node]) -> Node:
    """An ADF document; Jira rejects one without any block, so an empty one gets a paragraph."""
    return {"type": "doc", "version": 1, "content": list(content) or [paragraph("")]}


def text(value: str, *, strong: bool = False) -> Node:
    node: Node = {"type": "text", "text": value}
    if strong:
        node["marks"] = [{"type": "strong"}]
    return node


def paragraph(value: str, *, label: str | None = None) -> Node:
    """One paragraph; single newlines become hard breaks (ADF text nodes must not be empty)."""
    inline: list[Node] = []
    if label:
        inline.append(text(label, strong=True))
    for i, line in enumerate(_normalise(value).split("\n")):
        if i:
            inline.append({"type": "hardBreak"})
        if line:
            inline.append(text(f" {line}" if label and not i else line))
    return {"type": "paragraph", "content": inline}


def paragraphs(value: str) -> list[Node]:
    """Blank lines separate paragraphs, as in the text box the agent typed into."""
    blocks = [b.strip("\n") for b in _PARAGRAPH_BREAK.split(_normalise(value).strip())]
    return [paragraph(b) for b in blocks if b.strip()]


def text_to_adf(value: str) -> Node:
    """Free text (a description) as an ADF document."""
    return doc(paragraphs(value))


def ordered_list(items: Sequence[str]) -> Node:
    return {
        "type": "orderedList",
        "attrs": {"order": 1},
        "content": [{"type": "listItem", "content": [paragraph(item.strip())]} for item in items],
    }


def steps_to_adf(steps: Sequence[str]) -> Node:
    """Steps to reproduce as a numbered list, in the order the agent gave them."""
    kept = [s for s in steps if s.strip()]
    return doc([ordered_list(kept)] if kept else [])


def expected_actual_to_adf(expected: str, actual: str) -> Node:
    """Two labelled paragraphs: "Expected:" (how it should work) and "Actual:" (what happened)."""
    return doc(
        [
            paragraph(expected.strip(), label="Expected:"),
            paragraph(actual.strip(), label="Actual:"),
        ]
    )


def _normalise(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n")
