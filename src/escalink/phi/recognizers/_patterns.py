"""A recognizer that is only a list of patterns, optionally needing a context word nearby."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import ClassVar

from escalink.phi.model import Finding
from escalink.phi.registry import Pattern, Recognizer, ScanContext
from escalink.phi.text import matches_at


class PatternRecognizer(Recognizer):
    """Emits a finding for each match of `PATTERNS`; a context word within `CONTEXT_WINDOW`
    characters before the match adds `CONTEXT_BOOST`. A pattern may name a group to report."""

    PATTERNS: ClassVar[tuple[Pattern, ...]] = ()
    CONTEXT: ClassVar[tuple[str, ...]] = ()
    CONTEXT_WINDOW: ClassVar[int] = 40
    CONTEXT_BOOST: ClassVar[float] = 0.3
    GROUP: ClassVar[str] = "v"

    _compiled: ClassVar[list[tuple[Pattern, re.Pattern[str]]] | None] = None
    _context_rx: ClassVar[re.Pattern[str] | None] = None
    # the same context words matched case-sensitively, for a window of a text whose lower case
    # stands in for case-insensitive matching (`ScanContext.folded` is set): several times faster
    _context_folded: ClassVar[re.Pattern[str] | None] = None

    @classmethod
    def _prepare(cls) -> tuple[list[tuple[Pattern, re.Pattern[str]]], re.Pattern[str] | None]:
        if cls.__dict__.get("_compiled") is None:
            cls._compiled = [(p, p.compile()) for p in cls.PATTERNS]
            cls._context_rx = (re.compile(r"\b(?:" + "|".join(cls.CONTEXT) + r")\b", re.IGNORECASE)
                               if cls.CONTEXT else None)
            cls._context_folded = (re.compile(cls._context_rx.pattern) if cls._context_rx is not None
                                   and all(c == c.lower() for c in cls.CONTEXT) else None)
        assert cls._compiled is not None
        return cls._compiled, cls._context_rx

    def analyze(self, ctx: ScanContext) -> Iterable[Finding]:
        compiled, context = self._prepare()
        if ctx.folded is not None and self._context_folded is not None:
            context = self._context_folded  # the window is lower-cased and holds no case oddity
        for pattern, rx in compiled:
            if pattern.cues and not ctx.may_contain(*pattern.cues):
                continue
            for m in self.candidates(ctx, pattern, rx):
                start, end = m.span(self.GROUP) if self.GROUP in rx.groupindex else m.span()
                score = pattern.score
                if context is not None and context.search(ctx.window(start, end, self.CONTEXT_WINDOW)):
                    score += self.CONTEXT_BOOST
                score = self.adjust(ctx, m, start, end, score)
                if score > 0:
                    yield self.finding(self.labels[0], start, end, score)

    def candidates(self, ctx: ScanContext, pattern: Pattern, rx: re.Pattern[str]) -> Iterator[re.Match[str]]:
        """The matches of one pattern, as `finditer` gives them, tried only where they can begin."""
        if not pattern.starts:
            return rx.finditer(ctx.masked)
        return matches_at(rx, ctx.masked, ctx.starts(pattern.starts, pattern.back, pattern.run))

    def adjust(self, ctx: ScanContext, match: re.Match[str], start: int, end: int, score: float) -> float:
        """Hook for checks a regex cannot make (checksums, ranges); returns the new score."""
        return score
