"""Health facts about a person: conditions, medications and doses, procedures, metrics.

Drug and condition names come from the shipped lexicons. A condition that is also the name
of a program or screen ("the Diabetes program page") counts only when the text is about a
person (a name, he/she, "member") and not about everyone ("all users", "every account").
Metrics count with their value: "A1C 9.4%", "BP 168/102", "187 lbs", "glucose of 40 mg/dL".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import ClassVar

from escalink.phi.model import Finding
from escalink.phi.registry import Recognizer, ScanContext, register
from escalink.phi.text import digits_shaped, fold, matches_at, sentence_bounds, words

_NUM = r"\d{1,3}(?:\.\d{1,2})?(?:\s?(?:%|mg/dl|mmol/l|lbs?|kg|pounds|bpm|in\b|inches|cm))?"
_DOSE = r"\d+(?:\.\d+)?\s?(?:mg|mcg|µg|g|ml|units?|iu|mg/ml)\b"


@register
class ClinicalRecognizer(Recognizer):
    """Lexicon terms with doses; metric names with their values; blood-pressure pairs; weights."""

    name = "clinical"
    labels = ("CLINICAL",)
    order = 45
    METRICS: ClassVar[tuple[str, ...]] = (
        r"hba1c", r"a1c", r"ldl", r"hdl", r"e?gfr", r"glucose", r"blood\s+sugar", r"sugar", r"bp", r"blood\s+pressure",
        r"bmi", r"cholesterol", r"triglycerides?", r"tsh", r"creatinine", r"phq-?9", r"gad-?7", r"heart\s+rate",
        r"pulse", r"waist", r"weight", r"weighs", r"weighed", r"weigh-?in", r"spo2", r"oxygen", r"psa", r"inr",
        r"hemoglobin", r"ketones", r"vitamin\s+d", r"temperature", r"fev1", r"body\s+fat",
    )
    FILLER = (r"of|is|was|at|went|from|to|dropped|drops|rose|jumped|spiked|shows?|showed|imported|as|total|score|"
              r"reading|reads|read|about|around|approx|came|back|a|the|level|levels|value|result|results|"
              r"recorded|logged|now|currently|still|only|up|down|over|under|be")
    LIMIT_BEFORE = re.compile(r"(?i)(?:up\s+to|above|below|over|under|limit|max(?:imum)?|min(?:imum)?|cap|more\s+than|"
                              r"less\s+than|exceeds?|greater\s+than|range|between|values?)\s*$")
    GENERIC = re.compile(r"(?i)\b(?:all|every|any|everyone|anyone|everybody|members|users|accounts|providers)\b")
    PERSON = re.compile(r"(?i)\b(?:he|she|his|her|him|hers|mbr|patient|member(?!s)|member's)\b")
    PRODUCT_AFTER = re.compile(r"(?i)^[\s']*(?:(?:and|or|&)\s+[A-Z][a-z]+\s+)?(?:program\s+)?(?:page"
        r"|pages|screen|tab|landing|module|modules|template|"
                               r"card|banner|content|message|messages|intake|form|article|campaign)\b")
    # the words the patterns below can start with (as word tokens: letters only)
    METRIC_KEYS = words(
        "hba a ldl hdl egfr gfr glucose blood sugar bp bmi cholesterol triglyceride triglycerides tsh "
        "creatinine phq gad heart pulse waist weight weighs weighed weigh spo oxygen psa inr hemoglobin "
        "ketones vitamin temperature fev body")
    BODY_KEYS = words("waist hip hips height chest neck arm thigh")
    WEIGH_KEYS = words("weigh weighs weighed weight scale")
    BODY_CUE = re.compile(r"(?i)\b(?:waist|hips?|height|chest|neck|arm|thigh)\b")
    _length = re.compile(r"(?<![\d.])\d{2,3}(?:\.\d)?\s?(?:in|inches|cm|\"|ft)(?![A-Za-z])")
    WEIGH_CUE = re.compile(r"(?i)\b(?:weigh-?ins?|weighs|weighed|weight|scale)\b")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        lex = self.lexicons
        # One small pattern per term, reached through its first word: a dictionary lookup per
        # token is much faster than one alternation of hundreds of terms tried at every position.
        self._by_first: dict[str, list[re.Pattern[str]]] = {}
        for term in sorted(lex.drugs | lex.conditions, key=len, reverse=True):
            first = re.match(r"[a-z]+", term)
            if first is None:
                continue
            body = r"[\s_-]+".join(re.escape(w) for w in re.split(r"[\s-]+", term))
            self._by_first.setdefault(first.group(), []).append(re.compile(r"(?i)" + body + r"(?![A-Za-z])"))
        self._dose_after = re.compile(r"(?i)^[\s_]*" + _DOSE)
        self._dose_before = re.compile(r"(?i)" + _DOSE + r"\s+(?:of\s+)?$")
        metric = r"(?:" + "|".join(self.METRICS) + r")"
        self._metric = re.compile(
            r"(?i)(?<![A-Za-z])" + metric + r"(?![A-Za-z])(?:[ \t:=~_-]+(?:(?:" + self.FILLER + r")\b[ \t:=~]*){0,4})?"
            r"(?<![\d.])" + _NUM + r"(?:\s*(?:/|to|and|instead\s+of|->|→)\s*" + _NUM + r")*(?![\d/])")
        self._bp = re.compile(r"(?i)(?=[bp\d])(?:bp[\s_-]*)?(?<![\d/.-])(\d{2,3})[/-](\d{2,3})(?![\d/]|\.\d)")
        self._units = re.compile(r"(?i)(?=\d)(?<![\d.])\d{1,3}(?:,\d{3})?(?:\.\d{1,2})?\s?(?:mg/dl|m"
            r"mol/l|lbs?|pounds|kg)\b")
        self._stage = re.compile(r"(?i)\s+(?:stage|grade|class|type)\s+(?:\d[a-b]?|[iv]{1,3}[a-b]?)\b")
        self._admitted = re.compile(r"(?i)\b(?:admitted|hospitali[sz]ed)\s+(?:to\s+(?:the\s+)?\w+\s+)?(?:for|with)\s+$")
        self._pregnant = re.compile(r"(?i)\b\d{1,2}\s+weeks?\s+pregnant\b")
        self._bare_weight = re.compile(r"(?=\d)(?<![\d./:-])\d{2,3}(?:\.\d)?(?![\d/:%]|\.\d)")

    def analyze(self, ctx: ScanContext) -> Iterable[Finding]:
        text = ctx.masked
        about_person = bool(self.PERSON.search(text)) or any(f.label == "NAME" for f in ctx.found)
        for m in self._term_matches(ctx):
            start, end = m.span()
            key = fold(re.sub(r"[\s_-]+", " ", m.group()))
            if key in self.lexicons.product_conditions and m.group()[:1].isupper():
                s0, s1 = sentence_bounds(text, start)
                generic = self.GENERIC.search(text[s0:s1]) or self.PRODUCT_AFTER.search(text[end:end + 30])
                if not about_person or generic:
                    continue
            stage = self._stage.match(text, end)
            if stage:
                end = stage.end()
            after = self._dose_after.search(text[end:end + 20])
            if after:
                end += after.end()
            before = self._dose_before.search(text[max(0, start - 20):start])
            if before:
                start -= len(before.group())
            prefix = self._admitted.search(text[max(0, start - 40):start])
            if prefix:
                start -= len(prefix.group())
            yield self.finding("CLINICAL", start, end, 0.8)
        for m in self._at_tokens(ctx, self._metric, self.METRIC_KEYS):
            if not self.LIMIT_BEFORE.search(text[max(0, m.start() - 20):m.start()]):
                yield self.finding("CLINICAL", m.start(), m.end(), 0.8)
        # a reading begins with its first digit or with "BP"
        for m in matches_at(self._bp, text, ctx.starts("0bB", run=(2, 3, "/-"))):
            sys_, dia = int(m.group(1)), int(m.group(2))
            if 70 <= sys_ <= 260 and 35 <= dia <= 160 and sys_ > dia:
                if m.group()[2:3] == "-" and not m.group().lower().startswith("bp"):
                    continue  # 120-80 without "BP" is more often a range than a reading
                yield self.finding("CLINICAL", m.start(), m.end(), 0.75)
        found = [matches_at(self._units, text, digits_shaped(ctx.digit_runs, 1, 3, ""))]
        if ctx.may_contain("pregnant"):
            found.append(self._pregnant.finditer(text))
        for matches in found:
            for m in matches:
                if not self.LIMIT_BEFORE.search(text[max(0, m.start() - 20):m.start()]):
                    yield self.finding("CLINICAL", m.start(), m.end(), 0.75)
        yield from self._weights(ctx)
        for cue in self._at_tokens(ctx, self.BODY_CUE, self.BODY_KEYS):
            s0, s1 = sentence_bounds(text, cue.start())
            for m in self._length.finditer(text, cue.end(), s1):
                yield self.finding("CLINICAL", m.start(), m.end(), 0.6)

    @staticmethod
    def _at_tokens(ctx: ScanContext, rx: re.Pattern[str], keys: frozenset[str]) -> Iterable[re.Match[str]]:
        """Matches of `rx` tried only where a token starts with one of its first words."""
        end = -1
        for tok in ctx.at_heads(keys):
            if tok.start >= end:
                m = rx.match(ctx.masked, tok.start)
                if m:
                    end = m.end()
                    yield m

    def _term_matches(self, ctx: ScanContext) -> Iterable[re.Match[str]]:
        """Lexicon terms, longest first at each token, never two at the same place."""
        text, end = ctx.masked, -1
        by_first = self._by_first
        for tok in ctx.at_words(by_first.keys()):
            if tok.start < end:
                continue
            for rx in by_first[tok.text.lower()]:
                m = rx.match(text, tok.start)
                if m:
                    end = m.end()
                    yield m
                    break

    def _weights(self, ctx: ScanContext) -> Iterable[Finding]:
        """Bare numbers in a sentence about a weigh-in ("was 198.6 and the app shows 98.6")."""
        text = ctx.masked
        for cue in self._at_tokens(ctx, self.WEIGH_CUE, self.WEIGH_KEYS):
            s0, s1 = sentence_bounds(text, cue.start())
            for m in self._bare_weight.finditer(text, cue.end(), s1):
                value = float(m.group())
                if 70 <= value <= 700 and not self.LIMIT_BEFORE.search(text[max(s0, m.start() - 20):m.start()]):
                    yield self.finding("CLINICAL", m.start(), m.end(), 0.6)
