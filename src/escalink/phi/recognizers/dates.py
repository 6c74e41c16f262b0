"""Dates of a person's life or care, and ages over 89.

A date of a software event (a release, a sync failure, a file load) is not PHI, so every date
is weighed by the cue words nearest to it in its sentence: care cues (DOB, consult, lab draw,
weigh-in...) keep it, software cues (release, update, sync, a time zone...) drop it. A full date
whose year is long past is taken as a birth date unless a software cue says otherwise.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import ClassVar

from escalink.phi.mask import FILL
from escalink.phi.model import Finding
from escalink.phi.registry import Recognizer, ScanContext, register
from escalink.phi.text import digits_shaped, matches_at, sentence_bounds, words

_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_MONTH_NUM = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}


@register
class DateRecognizer(Recognizer):
    """Numeric, ISO, spelled-out and compact (02Jun2024, filename 11031954) dates; ages 90+."""

    name = "dates"
    labels = ("DATE",)
    order = 50
    PATTERNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("numeric", r"(?=\d)(?<![A-Za-z0-9/.:-])(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?"
            r"P<y>\d{4}|\d{2})(?![\w/:]|[.-]\d)"),
        ("iso", r"(?=\d)(?<![A-Za-z0-9/.-])(?P<y>(?:19|20)\d\d)-(?P<a>\d{1,2})-(?P<b>\d{1,2})(?![\w/]|[.-]\d)"),
        ("month_day", r"(?=\d)(?<![A-Za-z0-9/.:-])(?P<a>\d{1,2})/(?P<b>\d{1,2})(?![\w/]|[.-]\d)"),
        ("spelled", r"(?i)(?<![A-Za-z0-9])" + _MONTH + r"\.?\s?\d{1,2}(?:st|nd|rd|th)?(?:\s?[-–]\s?\d{1,2}(?!\d))?"
                    r"(?:,?\s+(?:19|20)\d\d)?(?![\w])"),
        ("day_month", r"(?i)(?<![A-Za-z0-9])\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r"\.?(?"
            r":,?\s+(?:19|20)\d\d)?(?![\w])"),
        ("compact", r"(?i)(?<![A-Za-z\d])\d{1,2}" + _MONTH + r"(?:19|20)\d\d(?!\d)"),
        ("month_year", r"(?i)(?<![A-Za-z0-9])" + _MONTH + r"\.?\s+(?:19|20)\d\d(?![\w])"),
    )
    FILENAME_DIGITS = re.compile(r"(?<!\d)(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:(?:19|20)\d\d)?(?!\d)")
    AGE_PATTERNS: ClassVar[tuple[str, ...]] = (
        r"(?i)(?<![A-Za-z0-9])aged?\s*:?\s*(?P<v>9\d|1[01]\d)(?!\d)",
        r"(?i)(?<![A-Za-z0-9.])(?P<v>9\d|1[01]\d)[\s-]*(?:years?|yrs?|y/?o)(?:[\s-]*old)?\b",
        r"(?i)(?:mrs?|ms|miss|mx|mr|grand(?:mother|father|ma|pa)|member)\.?\s+[^\s(]{0,30}\s*\((?P<v>9\d|1[01]\d)\)",
    )
    CARE = re.compile(
        r"(?i)(?<![a-z])(?:dob|d\.o\.b|birth\w*|born|b-?day|appointments?|appts?|consults?|visits?|sessions?|"
        r"scheduled|weigh-?ins?|weighed|weight|readings?|reads|labs?|draws?|drawn|results?|fill(?:ed)?|refill(?:ed)?|"
        r"prescri\w+|rx|pharmacy|admitted|admission|discharged?|hospital\w*|er visit|surgery|procedure|"
        r"died|passed away|death|deceased|diagnos\w+|dose|injection|vaccin\w*|screening|panel|report|exam|"
        r"entry|entries|gap|sleeve|colonoscopy|stay|therapy|seen|scan|mri|x-ray|a1c|glucose|bp|fax)(?![a-z])")
    SOFTWARE = re.compile(
        r"(?i)(?<![a-z])(?:releases?|released|updates?|updated|upgrade\w*|deploy\w*|builds?|versions?|launch\w*|"
        r"campaigns?|file load|loads?|loaded|sync\w*|crash\w*|errors?|fail\w*|outage|incident|bugs?|tested|"
        r"since|started|timestamps?|logs?|backfill|recording|screenshot|tickets?|newsletter|resets?|"
        r"anniversary|pushes|push|notifications?|sent|around|utc|gmt|[ecmp][sd]?t|cet|ist|tz|expired|"
        r"rollout|migration|maintenance|cutover|webhook|cron|job|server|api)(?![a-z])")
    # The same cues for the lower-cased text (`ScanContext.folded`): a case-sensitive alternation
    # of literals is several times faster in Python's regex engine than a case-insensitive one,
    # and the lookahead lets only word starts try it (every cue begins with a letter).
    CARE_FOLDED = re.compile(CARE.pattern.replace("(?i)(?<![a-z])", "(?<![a-z])(?=[a-z])", 1))
    SOFTWARE_FOLDED = re.compile(SOFTWARE.pattern.replace("(?i)(?<![a-z])", "(?<![a-z])(?=[a-z])", 1))
    _compiled = [(n, re.compile(p)) for n, p in PATTERNS]
    MONTH_WORDS = words(
        "jan feb mar apr may jun jul aug sep sept oct nov dec january february march april "
                             "june july august september october november december")
    MONTH_KINDS = frozenset(("spelled", "day_month", "compact", "month_year"))
    # the day written before a month word: "2 June", "3rd of May", "02Jun"
    _day_before = re.compile(r"(?<![A-Za-z0-9])\d{1,2}(?:(?:st|nd|rd|th)?\s+(?:of\s+)?)?$", re.IGNORECASE)
    _ages = [re.compile(p) for p in AGE_PATTERNS]
    # what the third age pattern ends with; a literal "(" leads, which the engine finds fast
    _age_in_brackets = re.compile(r"\((?:9\d|1[01]\d)\)")

    def _candidates(self, ctx: ScanContext, kind: str, rx: re.Pattern[str],
                    months: list[int]) -> Iterable[re.Match[str]]:
        """Matches of one pattern; month-name patterns are tried only at month words, since an
        alternation of month names tried at every position of a long text is slow."""
        text = ctx.masked
        if kind not in self.MONTH_KINDS:
            # the numeric patterns begin with a digit that follows no digit: one or two digits
            # and a separator, or a year and a dash
            shape = {"numeric": (1, 2, "/.-"), "iso": (4, 4, "-"), "month_day": (1, 2, "/")}[kind]
            yield from matches_at(rx, text, digits_shaped(ctx.digit_runs, *shape))
            return
        for pos in months:
            if kind in ("day_month", "compact"):
                day = self._day_before.search(text, max(0, pos - 12), pos)
                if day is None:
                    continue
                pos = day.start()
            m = rx.match(text, pos)
            if m:
                yield m

    def analyze(self, ctx: ScanContext) -> Iterable[Finding]:
        taken: list[tuple[int, int]] = []
        months = [t.start for t in ctx.at_words(self.MONTH_WORDS)]
        for kind, rx in self._compiled:
            for m in self._candidates(ctx, kind, rx, months):
                if any(s < m.end() and m.start() < e for s, e in taken):
                    continue
                year = self._year(kind, m)
                if year is False:
                    continue
                taken.append(m.span())
                score = self._weigh(ctx, m.start(), m.end(), year)
                if score > 0:
                    yield self.finding("DATE", m.start(), m.end(), score)
        if ctx.is_filename:
            yield from self._filename_dates(ctx, taken)
        for m in self._age_matches(ctx):
            yield self.finding("DATE", m.start("v"), m.end("v"), 0.8)

    def _age_matches(self, ctx: ScanContext) -> Iterable[re.Match[str]]:
        """The matches of `AGE_PATTERNS` in order, each tried only where it can match."""
        text = ctx.masked
        aged, years, bracket = self._ages
        if ctx.may_contain("age"):
            yield from aged.finditer(text)
        yield from matches_at(years, text, digits_shaped(ctx.digit_runs, 2, 3, ""))
        if self._age_in_brackets.search(text):
            yield from bracket.finditer(text)

    def _year(self, kind: str, m: re.Match[str]) -> int | None | bool:
        """The year of the match (None when it has none), or False when it is no date at all."""
        gd = m.groupdict()
        if kind in ("numeric", "iso", "month_day"):
            a, b = int(gd["a"]), int(gd["b"])
            if not ((1 <= a <= 12 and 1 <= b <= 31) or (1 <= b <= 12 and 1 <= a <= 31)):
                return False
            if kind == "month_day" and not (1 <= a <= 12):
                return False
            if gd.get("y") is None:
                return None
            y = int(gd["y"])
            return y if y > 99 else (1900 + y if y > dt.date.today().year % 100 else 2000 + y)
        years = re.findall(r"(?:19|20)\d\d", m.group())
        return int(years[-1]) if years else None

    def _weigh(self, ctx: ScanContext, start: int, end: int, year: int | None) -> float:
        text = ctx.masked
        s_start, s_end = sentence_bounds(text, start)
        lo, hi = max(s_start, start - 70), min(s_end, end + 40)
        folded = ctx.folded
        if folded is None:
            care = self._nearest(self.CARE, text, lo, hi, start, end)
            soft = self._nearest(self.SOFTWARE, text, lo, hi, start, end)
        else:
            care = self._nearest(self.CARE_FOLDED, folded, lo, hi, start, end)
            soft = self._nearest(self.SOFTWARE_FOLDED, folded, lo, hi, start, end)
        # a masked clock time right next to the date is a weak sign of a logged event
        near = text[max(lo, start - 12):start] + text[end:min(hi, end + 12)]
        if FILL in near:
            soft = min(soft, 25)
        if ctx.is_filename and soft > 100 and care > 100:
            return 0.0 if year is None or year >= dt.date.today().year - 10 else 0.75
        if year is not None and 1900 < year < dt.date.today().year - 10:
            if year == 1970 and re.search(r"(?:01|1)[/.-](?:01|1)[/.-]1970|1970-01-01", text[start:end]):
                return 0.0  # the Unix epoch: a timestamp bug, not a birthday
            return 0.85 if soft > care or soft > 30 else 0.3
        if care < soft:
            return 0.8
        if soft < care:
            return 0.0
        return 0.5

    @staticmethod
    def _nearest(rx: re.Pattern[str], text: str, lo: int, hi: int, start: int, end: int) -> int:
        best = 1000
        for m in rx.finditer(text, lo, hi):
            if m.end() <= start:
                best = min(best, start - m.end())
            elif m.start() >= end:
                best = min(best, m.start() - end + 5)  # cues usually come before the date
        return best

    def _filename_dates(self, ctx: ScanContext, taken: list[tuple[int, int]]) -> Iterable[Finding]:
        text = ctx.masked
        personal = self.CARE.search(text) or any(f.label in ("NAME", "CLINICAL") for f in ctx.found)
        if not personal:
            return
        for m in self.FILENAME_DIGITS.finditer(text):
            if not any(s < m.end() and m.start() < e for s, e in taken):
                yield self.finding("DATE", m.start(), m.end(), 0.7)
