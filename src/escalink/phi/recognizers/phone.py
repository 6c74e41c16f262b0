"""Phone and fax numbers, North American and international."""

from __future__ import annotations

import re
from typing import ClassVar

from escalink.phi.recognizers._patterns import PatternRecognizer
from escalink.phi.registry import Pattern, ScanContext, register

_EXT = r"(?:\s?(?:x|ext\.?|extension)\s?\d{1,5})?"


@register
class PhoneRecognizer(PatternRecognizer):
    """Formatted numbers are taken on shape; bare digit runs and loosely grouped foreign numbers
    need a cue (phone, fax, call, mobile...) before or after them."""

    name = "phone"
    labels = ("PHONE",)
    order = 30
    PATTERNS: ClassVar[tuple[Pattern, ...]] = (
        # (415) 555-0134, 415-555-0134, 415.555.0134, +1 415 555 0134, 1-800-555-0199 x4
        Pattern("nanp", r"(?=[+(\d])(?<![A-Za-z0-9+])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{"
            r"3}[\s.-]\d{4}" + _EXT + r"(?![A-Za-z0-9])",
                0.8, starts="0+(", run=(1, 4, "")),
        Pattern("nanp_parens_tight", r"\((?<![A-Za-z0-9+]\()\d{3}\)\d{3}-\d{4}" + _EXT + r"(?!\w)", 0.8),
        # 3125550187: ten bare digits, a valid area code and exchange
        Pattern("nanp_bare", r"(?=[+\d])(?<![A-Za-z0-9+-])(?:\+?1)?[2-9]\d{2}[2-9]\d{6}(?![A-Za-z0-9-])", 0.45,
                starts="0+", run=(10, 1 << 30, "")),
        # +353 1 555 0192, +44 20 7946 0958, +46 (0)8 928 571 38; a parenthesis only with its pair, so
        # "(MRN 00482913)" does not lend its closing one to the number
        Pattern("international", r"(?=[+0])(?<![A-Za-z0-9+-])(?:\+|00)\d{1,3}(?:[\s.-]?(?:\(\d{1,4}\)|\d{1,4})"
            r"){2,6}" + _EXT + r"(?![A-Za-z0-9])",
                0.75, starts="0+", run=(3, 1 << 30, "")),
        # loosely grouped numbers: 0490 75 40 81, 03.93.92.16.85, 467 3395; only with a cue
        Pattern("grouped", r"(?=[(\d])(?<![A-Za-z0-9+./:-])(?:\(\d{2,5}\)|\d{2,5})"
                r"(?:[\s.-](?:\(\d{2,8}\)|\d{2,8})){1,5}" + _EXT + r"(?![\w/:]|[.,-]\d)",
                0.2, starts="0(", run=(2, 5, "")),
    )
    CONTEXT: ClassVar[tuple[str, ...]] = (
        "phone", "phones", "fax", "faxed", "call", "called", "calling", "callback", "call back", "mobile", "cell",
        "tel", "telephone", "desk", "number", "reach", "reached", "text", "texts", "sms", "contact", "from",
        "answering", "messages to", "registered", "dial", "ring",
    )
    CONTEXT_BOOST = 0.4
    AFTER = re.compile(r"^\W{0,3}(?:office|fax|mobile|cell|home|work|desk|phone)\b", re.IGNORECASE)
    _context_letters = re.compile(
        r"(?<![A-Za-z])(?:" + "|".join(re.escape(c) for c in CONTEXT) + r")(?![A-Za-z])", re.IGNORECASE)
    # the same on a lower-cased window of a text without case oddities (`ScanContext.folded` set)
    _letters_folded = re.compile(r"(?<![a-z])(?:" + "|".join(re.escape(c) for c in CONTEXT) + r")(?![a-z])")

    def adjust(self, ctx: ScanContext, match: re.Match[str], start: int, end: int, score: float) -> float:
        digits = sum(map(str.isdigit, match.group()))
        if digits < 7 or digits > 15:
            return 0.0
        # `\b` does not separate words joined by `_` (fax_from_5595550871.pdf), so look again
        # for a cue with letters-only boundaries.
        letters = self._context_letters if ctx.folded is None else self._letters_folded
        if score < 0.6 and letters.search(ctx.window(start, end, 40)):
            score += self.CONTEXT_BOOST
        if self.AFTER.search(ctx.masked[end:end + 12]):
            score += self.CONTEXT_BOOST
        text = match.group()
        # 2024-06-18, 06/18/2024 and similar are dates, whatever the cue
        if re.fullmatch(r"\d{4}[-.]\d{2}[-.]\d{2}|\d{1,2}[-.]\d{1,2}[-.]\d{2,4}", text):
            return 0.0
        return min(score, 0.95)
