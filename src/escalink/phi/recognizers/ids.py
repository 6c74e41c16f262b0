"""Record, plan, account, licence, card and device serial numbers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import ClassVar

from escalink.phi.model import Finding
from escalink.phi.registry import Recognizer, ScanContext, register
from escalink.phi.text import matches_at, words

# A value: letters, digits and inner dashes, with at least three digits (checked in code).
VALUE = re.compile(r"(?<![A-Za-z0-9-])[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){3,33}(?![A-Za-z0-9-]|\.\d)")
GLUE = re.compile(r"^(?:\s*[,/&]\s*|\s+and\s+|\s*,\s*and\s+|\s+)$")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(value: str) -> bool:
    v = value.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", v):
        return False
    moved = v[4:] + v[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


@register
class IdRecognizer(Recognizer):
    """Identifiers after a cue word (MRN, member ID, subscriber #, NPI, licence, serial, card...),
    including lists of them; card numbers that pass the Luhn check and IBANs on their own;
    long upper-case codes mixing letters and digits at a lower score."""

    name = "ids"
    labels = ("ID",)
    order = 40
    CUES: ClassVar[tuple[str, ...]] = (
        r"mrn", r"medical\s+record(?:\s+(?:number|no\.?|#))?", r"chart\s*(?:number|#)",
        r"member\s*(?:id|number|no\.?|#)", r"subscriber(?:\s*(?:id|number|no\.?|#))?", r"group(?:\s*"
            r"(?:id|number|no\.?|#))?",
        r"policy(?:\s*(?:id|number|no\.?|#))?", r"plan\s*(?:id|number|#)", r"npi", r"dea", r"licen[c"
            r"s]e(?:\s*(?:number|no\.?|#))?",
        r"certificate(?:\s*(?:number|no\.?|#))?", r"serial(?:\s*(?:number|no\.?|#))?", r"s/?n", r"pa"
            r"tient\s*(?:ids?|records?|numbers?|#)",
        r"records?", r"account\s*(?:number|no\.?|#)", r"acct\.?(?:\s*#)?", r"card(?:\s*(?:number|n"
            r"o\.?|#))?", r"cc", r"iban",
        r"insurance\s*id", r"id\s*card", r"ids?", r"mbi", r"medicare\s*(?:id|number)", r"medicaid\s*(?:id|number)",
        r"passport(?:\s*(?:number|no\.?|#))?", r"driver'?s\s+licen[cs]e(?:\s*(?:number|no\.?|#))?",
    )
    # An "ID" after these words names a software object, not a person.
    SOFTWARE_BEFORE = re.compile(
        r"(?i)(?:request|trace|correlation|session|campaign|template|transaction|order|build|crash|event|job|"
        r"audit|message|article|client|app|device\s+model|model|error|span|batch|file|upload)\s*$")
    CUE_KEYS = words(
        "mrn medical chart member subscriber group policy plan npi dea license licence certificate serial s sn "
        "patient record records account acct card cc iban insurance id ids mbi medicare medicaid passport "
        "driver")
    _cue = re.compile(r"(?i)(?<![A-Za-z])(?:" + "|".join(CUES) + r")(?![A-Za-z])")
    _code = re.compile(r"(?=[A-Z0-9])(?<![A-Za-z0-9-])(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9](?:"
        r"[A-Z0-9]|-(?=[A-Z0-9])){7,24}(?![A-Za-z0-9-])")
    _card = re.compile(r"(?=\d)(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
    _iban = re.compile(r"(?i)(?<![\w])[a-z]{2}\d{2}(?: ?[a-z0-9]{4}){2,7}(?: ?[a-z0-9]{1,4})?(?![\w])")

    def analyze(self, ctx: ScanContext) -> Iterable[Finding]:
        text = ctx.masked
        for cue in self._cues(ctx):
            if self.SOFTWARE_BEFORE.search(text[max(0, cue.start() - 25):cue.start()]):
                continue
            generic = cue.group().lower() in {"id", "ids", "records", "record", "card", "cc"}
            yield from self._values_after(ctx, cue.end(), 0.6 if generic else 0.85)
        for m in matches_at(self._card, text, ctx.digits):
            digits = re.sub(r"\D", "", m.group())
            if luhn_ok(digits):
                yield self.finding("ID", m.start(), m.end(), 0.75)
        # two letters before the digits that begin every IBAN
        for m in matches_at(self._iban, text, [p - 2 for p in ctx.digits if p >= 2]):
            if iban_ok(m.group()):
                yield self.finding("ID", m.start(), m.end(), 0.85)
        for m in self._code.finditer(text):
            if sum(map(str.isdigit, m.group())) >= 5:
                yield self.finding("ID", m.start(), m.end(), 0.5)

    def _cues(self, ctx: ScanContext) -> Iterable[re.Match[str]]:
        """Cue words, tried only at tokens that can start one (faster than a scan of the text)."""
        end = -1
        for tok in ctx.at_heads(self.CUE_KEYS):
            if tok.start >= end:
                m = self._cue.match(ctx.masked, tok.start)
                if m:
                    end = m.end()
                    yield m

    def _values_after(self, ctx: ScanContext, pos: int, score: float) -> Iterable[Finding]:
        text = ctx.masked
        limit = min(len(text), pos + 120)
        m = next((v for v in VALUE.finditer(text, pos, limit) if self._is_value(v.group())), None)
        # up to three filler words between cue and value ("on her card is"), same sentence
        gap = text[pos:m.start()] if m else ""
        if m is None or len(re.findall(r"[A-Za-z]+", gap)) > 3 or re.search(r"[.;!?]\s|\n", gap):
            return
        while m is not None and self._is_value(m.group()):
            yield self.finding("ID", m.start(), m.end(), score)
            nxt = VALUE.search(text, m.end(), limit)
            if nxt is None or not GLUE.match(text[m.end():nxt.start()]):
                return
            m = nxt

    @staticmethod
    def _is_value(value: str) -> bool:
        digits = sum(map(str.isdigit, value))
        if digits < 3 or (digits < 5 and not any(c.isalpha() for c in value)):
            return False
        # lower-case hex (request ids, hashes) is a software identifier
        return not (re.fullmatch(r"[0-9a-f-]+", value) and any(c.isalpha() for c in value))
