"""Blank out what may go to the tracker before any recognizer looks at the text.

Member UUIDs, helpdesk ticket numbers, tracker keys and error codes, app/OS/build versions,
device models, HTTP codes, clock times and file sizes look like PHI to a pattern (long digit
runs, dates, serials) but are allowed. Masking replaces them by a filler of the same length,
so offsets into the masked text are offsets into the original.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from escalink.phi.text import KeywordIndex, Token, char_positions, digit_runs, digits_shaped, matches_at, tokens

FILL = "\u2592"

# Identifier cues after which a CODE-123 shape is a real identifier, not a tracker key.
_ID_CUES = (r"(?:mrn|member\s+(?:id|number|#)|subscriber|serial|sn|license|licence|policy|group|account|card|"
            r"patient|npi|id\s+(?:is|on))")

# CODE is skipped after an identifier cue
_CODE = r"[A-Z](?<![A-Za-z0-9-][A-Z])[A-Za-z]{0,9}(?:-[A-Z][A-Za-z]*)*-\d{1,6}(?![\w-])"
# clinical scales and names that look like codes
_NOT_CODES = ("PHQ-", "GAD-", "COVID-", "HbA1c-")
_ANY_RUN = (1, 1 << 30, "")
_SIZE_UNITS = ("KB", "MB", "GB", "TB", "kb", "ms")
_STATUS_WORDS = ("Forbidden", "Unauthorized", "Not Found", "Internal", "Bad Request", "error")
# (pattern, group to blank: 0 for the whole match, where a match can begin as in
# `registry.Pattern.starts` and `back`, substrings of which a match holds at least one: most
# fields hold none of them, and a substring test is far cheaper than trying the pattern)
_PATTERNS: tuple[tuple[str, int, str, int, tuple[int, int, str], tuple[str, ...]], ...] = (
    (r"[0-9a-fA-F](?<![0-9A-Za-z][0-9a-fA-F])[0-9a-fA-F]{7}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
     r"[0-9a-fA-F]{12}(?![0-9A-Za-z])", 0, "-", 8, _ANY_RUN, ("-",)),
    # helpdesk ticket numbers: #48213 (3+ digits, so "Apt #2" stays)
    (r"#(?<![\w&]#)\d{3,9}\b", 0, "", 0, _ANY_RUN, ("#",)),
    # tracker keys and error codes: ESCA-2210, E-2207, UPL-413, MS-Consult-03
    (_CODE, 0, "", 0, _ANY_RUN, ("-",)),
    # versions: v8.14.0, 4.12.1 (not dotted dates or phones, whose last part has 4 digits)
    (r"\d(?<![\w.]\d)\d{0,3}\.\d{1,3}\.\d{1,3}(?!\d|\.\d)", 0, "0", 0, (1, 4, "."), (".",)),
    (r"[vV](?<![\w.][vV])\d{1,4}(?:\.\d+)*\b", 0, "", 0, _ANY_RUN, ("v", "V")),
    # device models: iPhone 14, Pixel 7, Galaxy A54, Tab A8, BP7450
    (r"[A-Z](?<!\w[A-Z])[A-Z]{0,2}\d{3,5}\b(?=\))", 0, "", 0, _ANY_RUN, (")",)),
    # HTTP and error status codes
    (r"[1-5](?<!\w[1-5])\d\d(?=\s+(?:Forbidden|Unauthorized|Not Found|Internal|Bad Request|error|errors)\b)", 0, "0", 0,
     (3, 3, ""), _STATUS_WORDS),
    # clock times: 2:05pm, 14:05:11, 9.42.13 AM, 8am
    (r"\d(?<![\w:.]\d)\d?:\d{2}(?::\d{2})?(?:\s?[aApP]\.?[mM]\.?)?(?![\w:])", 0, "0", 0, (1, 2, ":"), (":",)),
    (r"\d(?<![\d.]\d)\d?\.\d{2}\.\d{2}(?:\s?[aApP][mM])?(?![\d.])", 0, "0", 0, (1, 2, "."), (".",)),
    (r"\d(?<![\d.:]\d)\d?\s?[aApP]\.?[mM]\b\.?", 0, "0", 0, (1, 2, ""), ("m", "M")),
    # sizes and durations
    (r"\d(?<!\w\d)\d*(?:\.\d+)?\s?(?:KB|MB|GB|TB|kb|ms)\b", 0, "0", 0, _ANY_RUN, _SIZE_UNITS),
)


# Keyword-led allowed identifiers: (keywords, pattern starting with one of them, group to blank)
_KEYWORD_PATTERNS: tuple[tuple[str, str, int], ...] = (
    ("ticket zendesk case incident", r"(?:ticket|zendesk|case|incident)\s*(?:no\.?|number)?\s*(#?\d{3,9})\b", 1),
    # app, OS and browser versions, builds: iOS 17.2, Android 14, app 4.12.1, build 2291, build1190
    ("ios ipados android macos windows chrome edge safari firefox app version ver build release sdk api",
     r"[a-z]+[\s_-]*(\d+(?:\.\d+)*[a-z]?)(?!\d)", 1),
    # device models: iPhone 14, Pixel 7, Galaxy A54, Tab A8
    ("iphone ipad pixel galaxy tab watch series gen", r"[a-z]+\s*([a-z]?\d+[a-z]?)\b", 1),
    # HTTP and error status codes
    ("http status error code return returns returned returning", r"[a-z]+\s+([1-5]\d\d)\b", 1),
)


class Masker:
    """Blanks allowed identifiers and allow-listed terms."""

    def __init__(self, allow_list: Iterable[str] = ()) -> None:
        self._patterns = [(re.compile(p), g, at, back, run, needs, p == _CODE)
                          for p, g, at, back, run, needs in _PATTERNS]
        self._id_cue = re.compile(_ID_CUES + r"\W{0,4}(?:\w+\W{1,3}){0,2}$", re.IGNORECASE)
        self._keywords = KeywordIndex((w, p) for words, p, _ in _KEYWORD_PATTERNS for w in words.split())
        self._keyword_group = {w: g for words, _, g in _KEYWORD_PATTERNS for w in words.split()}
        terms = sorted({t.strip() for t in allow_list if t.strip()}, key=len, reverse=True)
        # Not next to @ . / so that an allowed company inside an e-mail or URL does not break it.
        self._allow = KeywordIndex((t.split()[0], r"(?<![\w@./-])" + re.escape(t) + r"(?![\w@/-]|\.\w)")
                                   for t in terms)

    def mask(self, text: str, toks: list[Token] | None = None, lowered: list[str] | None = None) -> str:
        """`text` with allowed identifiers blanked; `toks` are its word tokens and `lowered`
        their lower-cased texts, when known."""
        if toks is None:
            toks = tokens(text)
        if lowered is None:
            lowered = [t.text.lower() for t in toks]
        # spans to blank, filled in one pass at the end instead of rebuilding a list per match
        spans: list[tuple[int, int]] = [m.span(1 if m.re.groups else 0)
                                        for m in self._keywords.matches(text, toks, lowered)]
        runs: tuple[list[int], list[int], list[str]] | None = None
        for rx, group, at, back, run, needs, is_code in self._patterns:
            if not any(n in text for n in needs):
                continue
            if not at:
                found: Iterable[re.Match[str]] = rx.finditer(text)
            elif at == "0":
                if runs is None:
                    runs = digit_runs(text)
                found = matches_at(rx, text, digits_shaped(runs, *run))
            else:
                found = matches_at(rx, text, sorted({p - back for p in char_positions(text, at) if p >= back}))
            for m in found:
                start, end = m.span(group)
                if is_code and (m.group().startswith(_NOT_CODES)
                                or self._id_cue.search(text[max(0, start - 40):start])):
                    continue
                spans.append((start, end))
        spans.extend(m.span() for m in self._allow.matches(text, toks, lowered))
        return _blank(text, spans)


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with every character inside one of `spans` replaced by FILL."""
    parts: list[str] = []
    pos = 0
    for start, end in sorted(spans):
        if start < pos:
            start = pos
        if end <= start:
            continue
        parts.append(text[pos:start])
        parts.append(FILL * (end - start))
        pos = end
    if not parts:
        return text
    parts.append(text[pos:])
    return "".join(parts)
