"""Text helpers shared by the recognizers: folding, word tokens, sentence bounds."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from itertools import accumulate, repeat
from typing import NamedTuple

# Letters only, so digits, `_` and `.` split tokens (file names come apart for free);
# inner apostrophes and hyphens keep O'Neil, Al-Sayed and Ana-Maria whole.
WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*(?:-[^\W\d_]+(?:['’][^\W\d_]+)*)*")
# The same words as separators of `re.split`: the pieces and their offsets come out of C code,
# which is several times faster than a Python loop over match objects on a long field.
_WORD_SPLIT = re.compile("(" + WORD_RE.pattern + ")")
_POSSESSIVE = ("'s", "’s", "'S", "’S")
_DIGIT_RUN = re.compile(r"\d+")
_DIGIT_SPLIT = re.compile(r"(\d+)")
_ASCII_DIGITS = frozenset("0123456789")
# Characters that re.IGNORECASE matches to an ASCII letter although their lower case is no ASCII
# letter (Kelvin sign ~ k, long s ~ s, dotted and dotless I ~ i): with one of them in the text a
# substring test of the lower-cased text cannot stand in for a case-insensitive pattern.
_CASE_ODDITIES = ("\u0130", "\u0131", "\u017f", "\u212a")
CAMEL_RE = re.compile(r"[A-Z][a-z]+")
# McGrath, MacDonald, DeShawn, LaToya: one name with a capital inside
_KEEP_PREFIXES = frozenset(["mc", "mac", "de", "di", "da", "la", "le", "van", "von", "st", "o"])
SENTENCE_END_RE = re.compile(r"[.!?](?:\s|$)|\n")


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """Lower-case, strip accents and apostrophes: the key every lexicon is stored under."""
    decomposed = unicodedata.normalize("NFKD", word)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain.casefold().replace("'", "").replace("’", "")


class Token(NamedTuple):
    """One word of the text, with its offsets (a tuple: thousands are made per scan)."""

    text: str
    start: int
    end: int

    @property
    def key(self) -> str:
        return fold(self.text)

    @property
    def is_title(self) -> bool:
        return self.text[:1].isupper() and not self.text.isupper()

    @property
    def is_upper(self) -> bool:
        return self.text.isupper() and len(self.text) > 1

    @property
    def is_cap(self) -> bool:
        return self.text[:1].isupper()


def tokens(text: str) -> list[Token]:
    """Word tokens; a trailing possessive ('s) is left out of the token."""
    parts = _WORD_SPLIT.split(text)  # separator, word, separator, word, ..., separator
    ends = list(accumulate(map(len, parts)))
    words_ = parts[1::2]
    out: list[Token] = list(map(tuple.__new__, repeat(Token), zip(words_, ends[0::2], ends[1::2], strict=False)))
    # a word ending in 's means the two characters occur in the text: test that in C first
    if any(p in text for p in _POSSESSIVE):
        for i in [i for i, word in enumerate(words_) if word.endswith(_POSSESSIVE) and len(word) > 2]:
            word, start, end = out[i]
            out[i] = Token(word[:-2], start, end - 2)
    return out


def digit_starts(text: str) -> list[int]:
    """Offsets of the digits (`\\d`, any script) not preceded by an ASCII digit: where a pattern
    that begins with a digit not following [0-9] can match. Sorted."""
    return digit_runs(text)[0]


def digit_runs(text: str) -> tuple[list[int], list[int], list[str]]:
    """`digit_starts`, with the number of digits (`\\d`) from each on and the character after them."""
    parts = _DIGIT_SPLIT.split(text)  # other, digits, other, digits, ..., other
    runs = parts[1::2]
    if "".join(runs).isascii():
        # as in `tokens`: the offsets come out of C code instead of a loop over match objects
        ends = list(accumulate(map(len, parts)))
        # two runs are never adjacent, so only the last run can be followed by nothing
        return ends[0:-1:2], list(map(len, runs)), [p[:1] for p in parts[2::2]]
    return _digit_runs_any(text)


def _digit_runs_any(text: str) -> tuple[list[int], list[int], list[str]]:
    """`digit_runs` for a text with digits of other scripts."""
    starts: list[int] = []
    lengths: list[int] = []
    after: list[str] = []
    for m in _DIGIT_RUN.finditer(text):
        start, end = m.span()
        starts.append(start)
        lengths.append(end - start)
        after.append(text[end:end + 1])
        run = m.group()
        if not run.isascii():  # "٣5": the 5 may begin a match too
            for i in range(1, len(run)):
                if run[i - 1] not in _ASCII_DIGITS:
                    starts.append(start + i)
                    lengths.append(end - start - i)
                    after.append(text[end:end + 1])
    return starts, lengths, after


def digits_shaped(runs: tuple[list[int], list[int], list[str]], shortest: int, longest: int,
                  followers: str) -> list[int]:
    """The starts in `runs` of between `shortest` and `longest` digits followed by one of
    `followers` (by anything when it is empty)."""
    starts, lengths, after = runs
    if followers:
        return [p for p, n, c in zip(starts, lengths, after, strict=True)
                if shortest <= n <= longest and c and c in followers]
    return [p for p, n in zip(starts, lengths, strict=True) if shortest <= n <= longest]


def char_positions(text: str, chars: str) -> list[int]:
    """Offsets of every occurrence of each of `chars`, unsorted."""
    out: list[int] = []
    for ch in chars:
        pos = text.find(ch)
        while pos >= 0:
            out.append(pos)
            pos = text.find(ch, pos + 1)
    return out


def matches_at(rx: re.Pattern[str], text: str, starts: Sequence[int]) -> Iterator[re.Match[str]]:
    """What `rx.finditer(text)` yields, provided every match of `rx` begins at one of `starts`
    (sorted): a pattern is tried only where it can begin instead of at every character."""
    end = 0
    match = rx.match
    for pos in starts:
        if pos >= end:
            m = match(text, pos)
            if m:
                end = m.end() if m.end() > pos else pos + 1
                yield m


def case_folded(text: str) -> str | None:
    """`text` lower-cased for cheap "does this cue occur at all" tests before a case-insensitive
    pattern runs; None when such a test could miss a match (see `_CASE_ODDITIES`)."""
    if not text.isascii() and any(c in text for c in _CASE_ODDITIES):
        return None
    return text.lower()


def camel_parts(token: Token) -> list[Token] | None:
    """Split RosaDelgado into Rosa + Delgado; None when the token is not camel-cased."""
    parts = CAMEL_RE.findall(token.text)
    if len(parts) < 2 or "".join(parts) != token.text or fold(parts[0]) in _KEEP_PREFIXES:
        return None
    out, pos = [], token.start
    for p in parts:
        out.append(Token(p, pos, pos + len(p)))
        pos += len(p)
    return out


def sentence_bounds(text: str, pos: int) -> tuple[int, int]:
    """Start and end of the sentence (or line) holding `pos`."""
    # sentences are short: look back a bounded stretch instead of from the start of the text
    lo = max(0, pos - 400)
    start = lo
    for m in SENTENCE_END_RE.finditer(text, lo, pos):
        start = m.end()
    stop = SENTENCE_END_RE.search(text, pos, pos + 400)
    return start, (stop.start() + 1 if stop else min(len(text), pos + 400))


def words(spaced: str) -> frozenset[str]:
    """A vocabulary written as one space-separated string (keeps long word lists readable)."""
    return frozenset(spaced.split())


def looks_like_filename(text: str) -> bool:
    """A single word with an extension, as attachment names are."""
    stripped = text.strip()
    return bool(re.fullmatch(r"[^\s/\\]+\.[A-Za-z0-9]{2,5}", stripped)) or (
        bool(re.fullmatch(r"[^/\\]+\.[A-Za-z0-9]{2,5}", stripped)) and "_" in stripped)


class KeywordIndex:
    """Patterns reached through the word they start with.

    Trying an alternation of keywords at every position of a long text is slow in Python's
    regex engine; looking each word token up in a dictionary and matching the few patterns
    that start with it, anchored at the token, finds the same matches much faster.
    """

    def __init__(self, entries: Iterable[tuple[str, str]], flags: int = re.IGNORECASE) -> None:
        self._by_word: dict[str, list[re.Pattern[str]]] = {}
        for word, pattern in entries:
            self._by_word.setdefault(word.lower(), []).append(re.compile(pattern, flags))

    def matches(self, text: str, toks: Sequence[Token], lowered: Sequence[str] | None = None,
                ) -> Iterator[re.Match[str]]:
        """The first pattern matching at each token, skipping tokens inside an earlier match;
        `lowered` holds the tokens' lower-cased texts when known."""
        by_word = self._by_word
        if lowered is None:
            lowered = [t.text.lower() for t in toks]
        end = -1
        for i in [i for i, w in enumerate(lowered) if w in by_word]:
            tok = toks[i]
            if tok.start < end:
                continue
            for rx in by_word[lowered[i]]:
                m = rx.match(text, tok.start)
                if m:
                    end = m.end()
                    yield m
                    break
