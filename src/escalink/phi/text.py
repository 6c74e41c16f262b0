"""Text helpers shared by the recognizers: folding, word tokens, sentence bounds."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import NamedTuple

# Letters only, so digits, `_` and `.` split tokens (file names come apart for free);
# inner apostrophes and hyphens keep O'Neil, Al-Sayed and Ana-Maria whole.
WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*(?:-[^\W\d_]+(?:['’][^\W\d_]+)*)*")
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
    out: list[Token] = []
    for m in WORD_RE.finditer(text):
        word, start, end = m.group(), m.start(), m.end()
        if len(word) > 2 and word[-2] in "'’" and word[-1] in "sS":
            word, end = word[:-2], end - 2
        out.append(Token(word, start, end))
    return out


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

    def matches(self, text: str, toks: Iterable[Token]) -> Iterator[re.Match[str]]:
        """The first pattern matching at each token, skipping tokens inside an earlier match."""
        end = -1
        for tok in toks:
            if tok.start < end:
                continue
            for rx in self._by_word.get(tok.text.lower(), ()):
                m = rx.match(text, tok.start)
                if m:
                    end = m.end()
                    yield m
                    break
