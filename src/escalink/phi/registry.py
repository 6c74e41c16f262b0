"""Recognizers and the registry that collects them.

A recognizer is a small class in `escalink.phi.recognizers`, one a file, that declares its
patterns and context words as class data and turns a `ScanContext` into findings. It is made
known with `@register`; the YAML configuration enables, disables and tunes it by `name`.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any, ClassVar

from escalink.phi.lexicons import Lexicons
from escalink.phi.model import Finding
from escalink.phi.text import Token


@dataclass(frozen=True, slots=True)
class Pattern:
    """A named regular expression with the score a bare match earns."""

    name: str
    regex: str
    score: float
    flags: int = 0

    def compile(self) -> re.Pattern[str]:
        return re.compile(self.regex, self.flags)


@dataclass(slots=True)
class ScanContext:
    """What a recognizer sees: the original text, the masked text (same length, allowed
    identifiers blanked), the field name, word tokens of the masked text, and the findings
    of recognizers that ran before it."""

    text: str
    masked: str
    field: str
    is_filename: bool
    tokens: list[Token]
    found: list[Finding] = dc_field(default_factory=list)

    def window(self, start: int, end: int, before: int = 40, after: int = 0) -> str:
        """Lower-cased masked text around a span, for context-word checks."""
        return self.masked[max(0, start - before):start].lower() + " " + self.masked[end:end + after].lower()


class Recognizer(ABC):
    """Turns text into findings of one or a few labels."""

    name: ClassVar[str]
    labels: ClassVar[tuple[str, ...]]
    # Lower runs first; later recognizers may read `ScanContext.found`.
    order: ClassVar[int] = 100

    def __init__(self, lexicons: Lexicons, options: dict[str, Any] | None = None) -> None:
        self.lexicons = lexicons
        self.options = options or {}

    @abstractmethod
    def analyze(self, ctx: ScanContext) -> Iterable[Finding]:
        """Yield findings on `ctx` (offsets into `ctx.text`)."""

    def finding(self, label: str, start: int, end: int, score: float) -> Finding:
        return Finding(label, start, end, round(min(score, 1.0), 3), self.name)


_REGISTRY: dict[str, type[Recognizer]] = {}


def register(cls: type[Recognizer]) -> type[Recognizer]:
    """Class decorator: make a recognizer available to the detector under `cls.name`."""
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"two recognizers named {cls.name!r}")
    _REGISTRY[cls.name] = cls
    return cls


def registered() -> dict[str, type[Recognizer]]:
    """Every registered recognizer class by name (importing the built-in ones first)."""
    import escalink.phi.recognizers  # noqa: F401  (registers the built-in recognizers)

    return dict(_REGISTRY)
