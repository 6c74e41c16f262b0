"""Plain text to Jira wiki markup, the rich-text format of Jira Data Center REST v2.

Every character wiki markup gives a meaning to is escaped, so an agent's text
(a "*" in a step, "{code}" in an error message, "-" in "Step-by-step") shows
exactly as typed. Web addresses are left as they are so Jira still links them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Characters with a meaning in wiki markup; a backslash makes Jira print them as such.
_SPECIAL = re.compile(r"([*_?\-+^~{}\[\]|!#])")
_URL = re.compile(r"(https?://[^\s|\]\[{}]+)")
# A line starting "h1." .. "h6." or "bq." becomes a heading or quote even after escaping
# the rest, so its dot is escaped too.
_BLOCK_PREFIX = re.compile(r"^(\s*)(h[1-6]|bq)\.", re.MULTILINE)
# Wiki markup treats "\\" as a forced line break; a literal backslash is written as an
# HTML entity, which the wiki renderer prints as "\".
_BACKSLASH_ENTITY = "&#92;"
LINE_BREAK = "\\\\"


def escape(value: str) -> str:
    """The text with every wiki markup character escaped, except inside web addresses."""
    parts = _URL.split(_normalise(value))
    out: list[str] = []
    for i, part in enumerate(parts):
        if i % 2:  # odd parts are the URLs captured by the split
            out.append(part)
            continue
        # Literal backslashes are set aside first so the escapes added next stay distinct.
        part = _SPECIAL.sub(r"\\\1", part.replace("\\", "\0")).replace("\0", _BACKSLASH_ENTITY)
        out.append(part)
    return _BLOCK_PREFIX.sub(lambda m: f"{m.group(1)}{m.group(2)}\\.", "".join(out))


def text_to_wiki(value: str) -> str:
    """Free text (a description) as wiki markup; paragraphs and line breaks are kept."""
    return escape(value.strip())


def steps_to_wiki(steps: Sequence[str]) -> str:
    """Steps to reproduce as a numbered list ("# step" lines)."""
    lines = []
    for step in steps:
        if step.strip():
            # A newline would end the list item; a forced line break keeps the step in one item.
            lines.append("# " + f" {LINE_BREAK} ".join(escape(part) for part in _lines(step)))
    return "\n".join(lines)


def expected_actual_to_wiki(expected: str, actual: str) -> str:
    """Two labelled paragraphs: "*Expected:* ..." and "*Actual:* ..."."""
    return f"{_labelled('Expected:', expected)}\n\n{_labelled('Actual:', actual)}"


def _labelled(label: str, value: str) -> str:
    body = f" {LINE_BREAK} ".join(escape(line) for line in _lines(value))
    return f"*{label}* {body}" if body else f"*{label}*"


def _lines(value: str) -> list[str]:
    return [line.strip() for line in _normalise(value).strip().split("\n") if line.strip()]


def _normalise(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n")
