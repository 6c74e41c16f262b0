"""Recognizers and the registry that collects them.

A recognizer is a small class in `escalink.phi.recognizers`, one a file, that declares its
patterns and context words as class data and turns a `ScanContext` into findings. It is made
known with `@register`; the YAML configuration enables, disables and tunes it by `name`.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Set
from dataclasses import InitVar, dataclass
from dataclasses import field as dc_field
from operator import itemgetter
from typing import Any, ClassVar

from escalink.phi.lexicons import Lexicons
from escalink.phi.model import Finding
from escalink.phi.text import Token, case_folded, char_positions, digit_runs, digits_shaped

_TEXT = itemgetter(0)  # a token's text, read in C code


@dataclass(frozen=True, slots=True)
class Pattern:
    """A named regular expression with the score a bare match earns."""

    name: str
    regex: str
    score: float
    flags: int = 0
    # Where a match can begin, to spare a scan of every character of a long text: "" anywhere;
    # otherwise "0" for the first digit of a run of digits and any other character for itself,
    # up to `back` characters before such a place. It must hold for every possible match.
    starts: str = ""
    back: int = 0
    # When "0" is in `starts`: a match beginning with a digit begins with `run[0]` to `run[1]`
    # digits (`\\d`) followed by one of the characters `run[2]` (anything when empty).
    run: tuple[int, int, str] = (1, 1 << 30, "")
    # Lower-case words of which every match contains one (in any letter case); none in the
    # text means no match, and the pattern is not run.
    cues: tuple[str, ...] = ()

    def compile(self) -> re.Pattern[str]:
        return re.compile(self.regex, self.flags)


@dataclass(slots=True)
class ScanContext:
    """What a recognizer sees: the original text, the masked text (same length, allowed
    identifiers blanked), the field name, word tokens of the masked text, and the findings
    of recognizers that ran before it.

    It also carries what several recognizers would otherwise each work out again on a long
    text: the lower-cased tokens, where digit runs begin, and the lower-cased masked text."""

    text: str
    masked: str
    field: str
    is_filename: bool
    tokens: list[Token]
    found: list[Finding] = dc_field(default_factory=list)
    # `[t.text.lower() for t in tokens]` when the caller has it already
    known_lowered: InitVar[list[str] | None] = None
    # `tokens[i].text.lower()`, and the same before any hyphen
    lowered: list[str] = dc_field(init=False)
    heads: list[str] = dc_field(init=False)
    # offsets in `masked` where a run of digits begins: where digit-led patterns can match;
    # with the length of each run and the character after it
    digits: list[int] = dc_field(init=False)
    digit_runs: tuple[list[int], list[int], list[str]] = dc_field(init=False)
    # `masked.lower()`, or None when a substring test of it could miss a case-insensitive match
    folded: str | None = dc_field(init=False)

    def __post_init__(self, known_lowered: list[str] | None) -> None:
        lowered = self.lowered = (known_lowered if known_lowered is not None
                                  else list(map(str.lower, map(_TEXT, self.tokens))))
        self.heads = ([w.split("-", 1)[0] if "-" in w else w for w in lowered] if "-" in "".join(lowered)
                      else lowered)
        self.digit_runs = digit_runs(self.masked)
        self.digits = self.digit_runs[0]
        self.folded = case_folded(self.masked)

    def starts(self, spec: str, back: int = 0, run: tuple[int, int, str] | None = None) -> list[int]:
        """Sorted offsets in `masked` where a pattern described by `Pattern.starts`,
        `Pattern.back` and `Pattern.run` can begin."""
        chars = spec.replace("0", "")
        found = char_positions(self.masked, chars) if chars else []
        if "0" in spec:
            found += self.digits if run is None else digits_shaped(self.digit_runs, *run)
        if back:
            found = [p - k for p in found for k in range(back + 1) if p >= k]
        return sorted(set(found)) if chars or back else found

    def may_contain(self, *cues: str) -> bool:
        """False only when no lower-case `cues` occurs in the masked text in any letter case:
        a pattern that needs one of them cannot match, so it need not run."""
        folded = self.folded
        return folded is None or any(c in folded for c in cues)

    def at_words(self, keys: Set[str]) -> list[Token]:
        """Tokens whose lower-cased text is one of `keys`, in text order."""
        if keys.isdisjoint(self.lowered):
            return []
        toks = self.tokens
        return [toks[i] for i, w in enumerate(self.lowered) if w in keys]

    def at_heads(self, keys: Set[str]) -> list[Token]:
        """Tokens whose lower-cased text before any hyphen is one of `keys`, in text order."""
        if keys.isdisjoint(self.heads):
            return []
        toks = self.tokens
        return [toks[i] for i, w in enumerate(self.heads) if w in keys]

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
