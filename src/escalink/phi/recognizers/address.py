"""Street addresses, cities and counties, ZIP codes: any place smaller than a state."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

from escalink.phi.lexicons import Lexicons
from escalink.phi.model import Finding
from escalink.phi.registry import Recognizer, ScanContext, register
from escalink.phi.text import digits_shaped, fold, matches_at, words

STATES = words("AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY "
               "NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR")
STATE_NAMES = frozenset(fold(s) for s in words(
    "Alabama Alaska Arizona Arkansas California Colorado Connecticut Delaware Florida Georgia Hawaii Idaho "
    "Illinois Indiana Iowa Kansas Kentucky Louisiana Maine Maryland Massachusetts Michigan Minnesota "
    "Mississippi Missouri Montana Nebraska Nevada Ohio Oklahoma Oregon Pennsylvania Tennessee Texas Utah "
    "Vermont Virginia Washington Wisconsin Wyoming")) | {"new york", "new jersey", "new mexico",
    "new hampshire", "north carolina", "south carolina", "north dakota", "south dakota", "rhode island",
    "west virginia", "puerto rico"}
_ST = r"(?:" + "|".join(sorted(STATES)) + r")"
_SUFFIX = (r"(?i:st|street|ave|avenue|blvd|boulevard|rd|road|dr|drive|ct|court|ln|lane|pl|place|way|pkwy|parkway|"
           r"hwy|highway|ter|terrace|cir|circle|sq|square|trl|trail|loop|row|run|pike|plaza|walk|crescent|cres|"
           r"alley|aly|path|point|pt|xing|crossing|expy|expressway|fwy|freeway)")
_UNIT = r"(?:,?\s*(?i:apt|apartment|suite|ste|unit|fl|floor|bldg|building|room|rm|#)\.?\s*#?\s*[A-Za-z0-9-]{1,6}\b)?"
_CITY = r"[A-Z][a-z]+(?:[ -][A-Z][a-z]+){0,2}"


@register
class AddressRecognizer(Recognizer):
    """House number + street + suffix (with unit, city, state, ZIP when they follow); City, ST;
    ZIP after a cue or a state; X County; known US places after in/from/to or before 'address'."""

    name = "address"
    labels = ("ADDRESS",)
    order = 55
    PATTERNS: ClassVar[tuple[tuple[str, str, float], ...]] = (
        ("street", r"(?=\d)(?<![\w-])\d{1,6}[A-Za-z]?\s+(?:[NSEW]\.?\s+|(?:north|south|east|west)\s+)?"
                   r"(?:(?:[A-Z][\w'.-]*|\d+(?:st|nd|rd|th))\s+){1,4}" + _SUFFIX + r"\.?(?![\w])"
                   r"(?:\s+(?:N|S|E|W|NE|NW|SE|SW)\b)?" + _UNIT +
                   r"(?:,\s*" + _CITY + r"(?:,\s*" + _ST + r"\b)?(?:\s+\d{5}(?:-\d{4})?)?)?", 0.85),
        ("po_box", r"(?i)(?<![\w])(?:p\.?\s?o\.?\s+box|psc)\s+\d+(?:,\s*box\s+\d+)?", 0.8),
        ("city_state", r"(?=[A-Z])(?<![\w])" + _CITY + r",\s*" + _ST + r"(?:\s+\d{5}(?:-\d{4})?)?(?![\w])", 0.6),
        ("zip_cue", r"(?i)(?<![a-z])(?:zip|zip\s*code|postal\s*code|zipcode)\s*(?:is|:|=|of|#)?\s*(?"
            r"P<v>\d{5}(?:-\d{4})?)(?!\d)",
         0.85),
        ("state_zip", r"(?<![\w])" + _ST + r"\s+(?P<v>\d{5}(?:-\d{4})?)(?!\d)", 0.85),
        ("county", r"(?=[A-Z])(?<![\w])[A-Z][a-z]+(?:\s[A-Z][a-z]+)?\s+(?:County|Parish|Borough)(?![\w])", 0.8),
    )
    PLACE_BEFORE = re.compile(r"(?i)(?:\b(?:in|from|to|near|at|of|lives|living|moved|relocated)\s+(?"
        r":the\s+)?(?:old\s+|new\s+)?)$")
    PLACE_AFTER = re.compile(r"(?i)^(?:\s+(?:address|area|home|house|apartment|office|clinic|locatio"
        r"n)\b|,\s*(?:" + _ST +
                             r"\b|[A-Z][a-z]+))")
    _compiled = [(n, re.compile(p), s) for n, p, s in PATTERNS]
    # what every city_state match holds: a comma, then a state code; a literal leads, so this
    # finds out fast whether the slow pattern needs to run at all
    _comma_state = re.compile(r",\s*" + _ST + r"(?!\w)")
    _cap_run = re.compile(r"(?=[A-Z])(?<![\w-])[A-Z][a-z]+(?:[ -][A-Z][a-z]+){0,2}(?![\w-])")

    def __init__(self, lexicons: Lexicons, options: dict[str, Any] | None = None) -> None:
        super().__init__(lexicons, options)
        # first words of the known places: most capitalised runs start with none of them, and
        # one set lookup then spares joining and folding every prefix of the run
        self._place_heads = frozenset(p.split(" ")[0] for p in lexicons.places)

    def analyze(self, ctx: ScanContext) -> Iterable[Finding]:
        for kind, rx, score in self._compiled:
            for m in self._matches(ctx, kind, rx):
                start, end = m.span("v") if "v" in rx.groupindex else m.span()
                if kind == "city_state":
                    city = m.group().split(",")[0]
                    known = fold(city) in self.lexicons.places
                    has_zip = bool(re.search(r"\d{5}", m.group()))
                    if not (known or has_zip):
                        continue
                    if not has_zip:
                        end = start + len(city)  # a state at the end is left out
                    score = 0.85 if known else 0.7
                yield self.finding("ADDRESS", start, end, score)
        yield from self._places(ctx)

    def _matches(self, ctx: ScanContext, kind: str, rx: re.Pattern[str]) -> Iterable[re.Match[str]]:
        """`rx.finditer` on the masked text, tried only where a match can begin, and not at all
        when what every match needs is missing."""
        text = ctx.masked
        if kind == "street":
            return matches_at(rx, text, digits_shaped(ctx.digit_runs, 1, 6, ""))
        if kind == "state_zip":
            # two letters, white space, then the ZIP code's first digit
            starts = []
            for pos in ctx.digits:
                gap = pos
                while gap > 0 and text[gap - 1].isspace():
                    gap -= 1
                if gap < pos and gap >= 2:
                    starts.append(gap - 2)
            return matches_at(rx, text, starts)
        if kind == "po_box":
            needed = ctx.may_contain("box", "psc")
        elif kind == "zip_cue":
            needed = ctx.may_contain("zip", "postal")
        elif kind == "city_state":
            needed = self._comma_state.search(text) is not None
        elif kind == "county":
            needed = "County" in text or "Parish" in text or "Borough" in text
        else:
            needed = True
        return rx.finditer(text) if needed else iter(())

    def _places(self, ctx: ScanContext) -> Iterable[Finding]:
        text, lex, heads = ctx.masked, self.lexicons, self._place_heads
        for m in self._cap_run.finditer(text):
            words = m.group().split()
            # the run is ASCII letters, so lower() is its fold
            if words[0].lower() not in heads:
                continue
            # try the longest known place inside the run, anchored at its start
            for n in range(len(words), 0, -1):
                cand = " ".join(words[:n])
                key = fold(cand)
                if key not in lex.places or key in STATE_NAMES:
                    continue
                start, end = m.start(), m.start() + len(cand)
                before, after = text[max(0, start - 30):start], text[end:end + 25]
                if self.PLACE_BEFORE.search(before) or self.PLACE_AFTER.search(after):
                    yield self.finding("ADDRESS", start, end, 0.45 if key in lex.words else 0.8)
                break
