"""Plain text to Atlassian Document Format (ADF), the rich-text format of Jira Cloud REST v3.

Only what escalations need: paragraphs with line breaks, an ordered list of steps,
and "Expected:" / "Actual:" labelled paragraphs. Text is never interpreted as
markup, so nothing an agent types can change the document's structure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
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


# Reading ADF back (comment bodies arriving by webhook) as plain text.
_MAX_ADF_DEPTH = 64
_LISTS = ("bulletList", "orderedList", "taskList", "decisionList")
_BLOCKS_OF_TEXT = ("paragraph", "heading", "codeBlock")


def adf_to_text(node: object) -> str:
    """Atlassian Document Format as readable plain text: blocks apart, lists marked, media named."""
    return "\n\n".join(b for b in _blocks(node, 0) if b.strip()).strip()


def _blocks(node: object, depth: int) -> list[str]:
    if not isinstance(node, dict) or depth > _MAX_ADF_DEPTH:
        return []
    kind, children = node.get("type"), _content(node)
    if kind in _LISTS:
        return ["\n".join(_list_lines(node, depth))]
    if kind == "blockquote":
        inner = "\n\n".join(b for c in children for b in _blocks(c, depth + 1))
        return ["\n".join("> " + line for line in inner.split("\n"))]
    if kind == "table":
        cells = [[" ".join(_blocks(cell, depth + 2)) for cell in _content(row)] for row in children]
        return ["\n".join(" | ".join(row) for row in cells)]
    if kind == "rule":
        return ["---"]
    if kind in _BLOCKS_OF_TEXT or "text" in node or kind in ("media", "mediaInline"):
        return [_inline(node, depth)]
    return [b for c in children for b in _blocks(c, depth + 1)]


def _list_lines(node: dict[str, Any], depth: int) -> list[str]:
    order = _dict(node.get("attrs")).get("order", 1)
    start = order if isinstance(order, int) else 1
    lines: list[str] = []
    for i, item in enumerate(_content(node)):
        marker = f"{start + i}. " if node.get("type") == "orderedList" else "- "
        first, *rest = "\n".join(_blocks({"type": "doc", "content": _content(item)}, depth + 1)).split("\n")
        lines.append(marker + first)
        lines.extend("  " + line for line in rest)
    return lines


def _inline(node: object, depth: int) -> str:
    if not isinstance(node, dict) or depth > _MAX_ADF_DEPTH:
        return ""
    kind, attrs = node.get("type"), _dict(node.get("attrs"))
    if kind in ("text", None) and isinstance(node.get("text"), str):
        return str(node["text"])
    if kind == "hardBreak":
        return "\n"
    if kind in ("mention", "emoji", "status"):
        return str(attrs.get("text") or attrs.get("shortName") or "")
    if kind in ("inlineCard", "blockCard", "embedCard"):
        return str(attrs.get("url") or "")
    if kind == "date":
        raw_stamp = str(attrs.get("timestamp") or "")
        if not (raw_stamp.isascii() and raw_stamp.isdigit()):
            return ""
        try:
            return datetime.fromtimestamp(int(raw_stamp) / 1000, tz=UTC).date().isoformat()
        except (OverflowError, OSError, ValueError):
            return ""
    if kind in ("media", "mediaInline"):
        return f"[attachment: {attrs['alt']}]" if attrs.get("alt") else "[attachment]"
    return "".join(_inline(c, depth + 1) for c in _content(node))


def _content(node: object) -> list[Any]:
    content = node.get("content") if isinstance(node, dict) else None
    return content if isinstance(content, list) else []


def _dict(raw: object) -> dict[str, Any]:
    return raw if isinstance(raw, dict) else {}
