"""E-mail addresses."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from escalink.phi.recognizers._patterns import PatternRecognizer
from escalink.phi.registry import Pattern, ScanContext, register
from escalink.phi.text import matches_at

_LOCAL_EXTRA = frozenset("_.+-")


@register
class EmailRecognizer(PatternRecognizer):
    """Any e-mail address: the local part usually names the person."""

    name = "email"
    labels = ("EMAIL",)
    order = 10
    PATTERNS: ClassVar[tuple[Pattern, ...]] = (
        Pattern("address", r"(?=[A-Za-z0-9])(?<![\w.+-])[A-Za-z0-9][\w.+-]*@[A-Za-z0-9-]+(?:\.[A-Za-"
            r"z0-9-]+)*\.[A-Za-z]{2,}\b",
                0.95),
    )

    def candidates(self, ctx: ScanContext, pattern: Pattern, rx: re.Pattern[str]) -> Iterator[re.Match[str]]:
        # Tried at every character the pattern reads each word up to its end before failing; a
        # match can only begin where the unbroken run of [\w.+-] before an "@" begins.
        text = ctx.masked
        starts: list[int] = []
        at = text.find("@")
        while at >= 0:
            pos = at
            while pos > 0 and (text[pos - 1].isalnum() or text[pos - 1] in _LOCAL_EXTRA):
                pos -= 1
            if pos < at and (not starts or pos > starts[-1]):
                starts.append(pos)
            at = text.find("@", at + 1)
        return matches_at(rx, text, starts)
