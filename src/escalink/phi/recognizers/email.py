"""E-mail addresses."""

from __future__ import annotations

from typing import ClassVar

from escalink.phi.recognizers._patterns import PatternRecognizer
from escalink.phi.registry import Pattern, register


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
