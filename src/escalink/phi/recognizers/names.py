"""Names of people: members, family, providers, staff.

Capitalised words are grouped into runs ("Rosa Delgado", "DELGADO, ROSA M", "Mariam Al-Sayed").
Each word is looked up in the first-name and surname lists and in an English word list: a name
that is not a word (Delgado) is strong evidence, a name that is also a word (Grace, Will, Park)
is weak evidence that needs a neighbour or a cue, and a word that is no name (Provider) ends
the run. Cues before (Dr., Mrs., "my wife", "member", "Thanks") and after ("says", "called",
a possessive) raise the score. File names are split on `_ - .` and camelCase, and there
lower-case names count too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from operator import itemgetter
from typing import Any, ClassVar

from escalink.phi.model import Finding
from escalink.phi.recognizers.address import STATE_NAMES
from escalink.phi.registry import Recognizer, ScanContext, register
from escalink.phi.text import Token, camel_parts, fold, words

STRONG, WEAK, UNKNOWN, BLOCK, INITIAL, PARTICLE = range(6)
PLACE_OR_MONTH = 6  # a word whose kind depends on what follows it (see `NameRecognizer._kind`)
# word kinds kept per recognizer: enough for the vocabulary of many texts, small in memory
_MEMO_SIZE = 20000
_TEXT = itemgetter(0)  # a token's text, read in C code


def _inner_capital(word: str) -> bool:
    """Long enough and with a capital after the first letter, but not all capitals (RosaDelgado)."""
    return len(word) > 3 and not word[1:].islower() and not word.isupper()

COUNTRIES = frozenset(fold(c) for c in words(
    "Afghanistan Albania Algeria Argentina Armenia Australia Austria Bangladesh Belgium Bolivia Brazil Bulgaria "
    "Cambodia Cameroon Canada Chile China Colombia Croatia Cuba Cyprus Czechia Denmark Ecuador Egypt England "
    "Estonia Ethiopia Finland France Germany Ghana Greece Guatemala Haiti Honduras Hungary Iceland India "
    "Indonesia Iran Iraq Ireland Israel Italy Jamaica Japan Jordan Kenya Korea Latvia Lebanon Lithuania "
    "Malaysia Mexico Morocco Nepal Netherlands Nicaragua Nigeria Norway Pakistan Panama Peru Philippines "
    "Poland Portugal Romania Russia Scotland Senegal Serbia Singapore Slovakia Slovenia Somalia Spain "
    "Sweden Switzerland Syria Taiwan Tanzania Thailand Tunisia Turkey Uganda Ukraine Uruguay Venezuela "
    "Vietnam Wales Yemen Zambia Zimbabwe Europe Africa Asia America"))


@register
class NameRecognizer(Recognizer):
    """Person names from lexicons, capitalisation and context."""

    name = "names"
    labels = ("NAME",)
    order = 35
    TITLES: ClassVar[frozenset[str]] = words("dr doctor mr mrs ms miss mx prof professor rev sr sra srta nurse")
    PERSON_CUES: ClassVar[frozenset[str]] = words(
        "member mbr patient pt caregiver caller husband wife spouse partner son daughter mother mom father dad "
        "says said asks asked told tells starring by "
        "brother sister grandson granddaughter grandmother grandfather grandma grandpa aunt uncle niece nephew "
        "cousin friend fiance fiancee boyfriend girlfriend coach therapist dietitian provider physician "
        "counselor nurse agent engineer named name thanks thank hi hello hey dear cc goes by am im "
        "user customer client resident child kid baby neighbor neighbour roommate manager colleague "
        "founders author directed novel")
    # after these even a lower-case word may be a name ("mbr venkatesh")
    STRONG_CUES: ClassVar[frozenset[str]] = words(
        "dr mr mrs ms mbr member patient pt caregiver husband wife daughter son mother father")
    ABBREVIATED_CUES: ClassVar[frozenset[str]] = words("dr mr mrs ms mbr pt")
    WORDLIKE = re.compile(r"(?:ing|ings|tion|tions|sion|ment|ments|ness|ity|able|ible|ful|less|ous|ize|ized|"
                          r"ise|ised|ly|ism|ware|book|bot|hub|comms|ops|app|apps)$")
    FILENAME_CUES = re.compile(r"(?i)(?<![a-z])(?:dob|ssn|mrn|labs?|rx|insurance|card|id|chart|records?|"
                               r"referral|results?|panel|scan|xray|report)(?![a-z])")
    VERBS_AFTER: ClassVar[frozenset[str]] = words(
        "says said say called calls asked asks wants wanted reports reported mentioned confirmed is was has "
        "had cant cannot couldnt didnt doesnt wont gets got tried needs needed still from wrote emailed "
        "posted uploaded logged received sent shows showed and opens opened taps tapped joins joined "
        "replied responded explained added noted told lives lived will")
    PARTICLES: ClassVar[frozenset[str]] = words(
        "de del dela della da di do dos das du van von der den la le bin binti ibn al el y ter ten st")
    # Capitalised words that head sentences or name product parts and happen to be names too.
    STOP: ClassVar[frozenset[str]] = words(
        "jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday "
        "eng agent tier admin expected actual steps summary note notes update ios android web app "
        "dr mr mrs ms miss member patient provider coach support team ops security product clinical "
        "please thanks hi hello dear fyi asap pls yes no ok okay per via re fw fwd cc bcc "
        "dob mrn ssn npi id zip rx bp bmi cgm hiv phq dka ldl hdl uk us usa eu et pt ct mt utc "
        "lab labs fax form forms home devices settings metrics documents messages programs program "
        "dashboard platform guide health video consult nutrition weight christmas easter thanksgiving "
        "json png jpg jpeg pdf txt log csv mov heic img gif doc docx xlsx zip screenshot "
        # function words and pronouns, which head sentences
        "i ive im id ill me my mine we us our ours you your yours he him his she her hers it its they them "
        "their theirs the a an and or but nor not no yes if then so as at by for from in into of on to with "
        "without about after before over under up down out off again here there when where why how what "
        "which who whom whose all any both each few more most other some such only own same than too very "
        "can will just should now also this that these those do does did done be been being am is are was "
        "were has have had let lets may might must shall would could uuid uuids url api sdk http https") | COUNTRIES
    # "my name is", "name:", "named", "called": the next words are a name
    _name_cue = re.compile(r"(?i)(?:\bname\s*(?:is|:|=)|\bname's|\bnamed|\bcalled|\b(?:last|first|full|maiden)\s+name"
                           r"(?:\s+is)?\??:?|\bcalls\s+me|\bchange\s+it\s+to)\s*$")
    _weak_cue = re.compile(r"(?i)(?:\bthis\s+is|\bit'?s|\bi'?m|\bi\s+am|\bask)\s*$")
    # the score the configuration accepts (names.threshold in phi.yaml); used for names in lists
    ACCEPT: ClassVar[float] = 0.6
    MONTHS: ClassVar[frozenset[str]] = words(
        "january february march april may june july august september october november december")
    _digit_next = re.compile(r"\s*\d")
    _plural_acronym = re.compile(r"[A-Z]{2,}[a-z]{1,2}")
    _title_gap = re.compile(r"\.?\s+$")
    _line_start = re.compile(r"(?:^|\n)[\s>*-]*$")
    _line_end = re.compile(r"[ \t]*(?:\n|$)")
    _speaker = re.compile(r"\s*:")
    _next_word = re.compile(r"\s*(['’]s\b|[A-Za-z']+)")
    _words = re.compile(r"[A-Za-z']+")
    _list_glue = re.compile(r"^(?:,\s*|\s+and\s+|,\s+and\s+|\s*&\s*)$")
    # endings of surnames from many languages (Petrović, Kowalski, Ivanova, Andersson, Papadopoulos...)
    SURNAME_ENDING = re.compile(
        r"(?:ovich|evich|ovic|evic|ović|ević|ić|ič|ova|eva|ov|ev|ski|ska|sky|skaya|wicz|czyk|enko|chuk|"
        r"yan|ian|ishvili|idze|opoulos|akis|idis|oglu|oğlu|sson|ssen|sen|son|berg|ström|qvist|kvist|"
        r"escu|eanu|ez|es|ini|elli|etti|ucci|ato|ito|ero|ira|eira|inho|ada|ides|ou|ler|mann|stein|"
        r"oka|uki|moto|mura|hara|kawa|yama|ta|shi|nen|inen|lainen|dottir|sdottir|adze|aev|iev|uddin)$")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lex = self.lexicons
        # names that are no English word: the only lower-case words worth a look ("patricia desrosiers")
        self._lower_names = (lex.first_names | lex.surnames) - lex.words
        self._kinds: dict[tuple[str, bool, bool, bool], int] = {}
        self._picks: dict[str, bool] = {}  # word -> whether `_candidates` looks at it

    def analyze(self, ctx: ScanContext) -> Iterable[Finding]:
        toks, lowered = self._split_camel(ctx)
        # Runs of candidate words: capitalised, known names, particles, initials, words after a
        # cue, everything in a file name. Other words end a run and are never looked at again.
        masked = ctx.masked
        prev: dict[int, str] = {}  # the word right before a candidate, for cues ("mbr venkatesh")
        runs: list[list[Token]] = []
        last = -2
        for idx in self._candidates(ctx, toks, lowered):
            t = toks[idx]
            # the cue is the word before, when only a few characters separate them
            cue = lowered[idx - 1] if idx and t.start - toks[idx - 1].end <= 3 else ""
            prev[t.start] = cue
            if runs and last == idx - 1 and self._joins(masked, runs[-1][-1], t):
                runs[-1].append(t)
            else:
                runs.append([t])
            last = idx
        found: list[Finding] = []
        near_miss: list[Finding] = []
        for run in runs:
            # most runs are one word that cannot be a name (The, Member, Android): skip them cheaply
            if len(run) == 1 and self._kind(ctx, run[0], prev[run[0].start]) in (BLOCK, PARTICLE, INITIAL):
                continue
            for f in self._judge_run(ctx, run, prev):
                (found if f.score >= self.ACCEPT else near_miss).append(f)
        if found and near_miss:
            found, near_miss = self._promote_listed(masked, found, near_miss)
        yield from found
        yield from near_miss

    def _split_camel(self, ctx: ScanContext) -> tuple[list[Token], list[str]]:
        """The tokens with camel-cased ones (RosaDelgado) split, and their lower-cased texts."""
        toks = ctx.tokens
        # most texts have no word with an inner capital: look at each distinct word once
        texts = list(map(_TEXT, toks))
        inner = set(filter(_inner_capital, set(texts)))
        if not inner:
            return toks, ctx.lowered
        split: dict[int, list[Token]] = {}
        for i in [i for i, w in enumerate(texts) if w in inner]:
            parts = None if self._known(toks[i].text) else camel_parts(toks[i])
            if parts:
                split[i] = parts
        if not split:
            return toks, ctx.lowered
        out: list[Token] = []
        for i, t in enumerate(toks):
            out.extend(split.get(i, (t,)))
        return out, [t.text.lower() for t in out]

    def _candidates(self, ctx: ScanContext, toks: list[Token], lowered: list[str]) -> list[int]:
        """Indices of the words that may be part of a name, in order."""
        if ctx.is_filename:
            return list(range(len(toks)))
        particles, lower_names = self.PARTICLES, self._lower_names
        texts = list(map(_TEXT, toks))
        # The test hangs on the word alone and the same words recur in every text: it is made
        # once per new word and kept, and each token is then a dictionary lookup.
        picks = self._picks
        new = set(texts).difference(picks)
        if new:
            if len(picks) + len(new) > _MEMO_SIZE:
                picks = {}  # a new dict, not `clear()`: a scan in another thread may be reading the old one
                new = set(texts)
            for w in new:
                picks[w] = (w[0].isupper() or len(w) == 1 or w in particles
                            or (w if w.isascii() else fold(w)) in lower_names)
            self._picks = picks
        picked = [i for i, w in enumerate(texts) if picks[w]]
        # after a strong cue ("mbr venkatesh") any word is looked at
        strong = self.STRONG_CUES
        if strong.isdisjoint(lowered):
            return picked
        cued = [i + 1 for i, w in enumerate(lowered[:-1])
                if w in strong and toks[i + 1].start - toks[i].end <= 3]
        return sorted(set(picked).union(cued)) if cued else picked

    def _promote_listed(self, text: str, found: list[Finding],
                        near_miss: list[Finding]) -> tuple[list[Finding], list[Finding]]:
        """A weaker candidate listed with accepted names is one too ("Gaetane, Hannah and Derek"),
        also through other listed candidates. Only neighbours can be listed together (the words
        between them would be a finding in between), so one pass over them in order suffices."""
        ordered = sorted(found + near_miss, key=lambda f: f.start)
        groups: list[list[Finding]] = [[ordered[0]]]
        for a, b in zip(ordered, ordered[1:], strict=False):
            if self._listed(text, a, b):
                groups[-1].append(b)
            else:
                groups.append([b])
        promoted: set[Finding] = set()
        for group in groups:
            if len(group) > 1 and any(f.score >= self.ACCEPT for f in group):
                promoted.update(f for f in group if f.score < self.ACCEPT)
        if not promoted:
            return found, near_miss
        found = found + [self.finding("NAME", f.start, f.end, self.ACCEPT)
                         for f in near_miss if f in promoted]
        return found, [f for f in near_miss if f not in promoted]

    def _listed(self, text: str, a: Finding, b: Finding) -> bool:
        first, second = (a, b) if a.end <= b.start else (b, a)
        return bool(self._list_glue.match(text[first.end:second.start]))

    def _known(self, word: str) -> bool:
        key = fold(word)
        return key in self.lexicons.first_names or key in self.lexicons.surnames

    @staticmethod
    def _joins(text: str, a: Token, b: Token) -> bool:
        gap = text[a.end:b.start]
        if a.end == b.start:
            return True  # camel-case parts
        if gap in (" ", "_", "-", " '", "' ", "\u00a0", "  "):
            return True
        if gap == ". ":
            return len(a.text) == 1 or fold(a.text) in NameRecognizer.TITLES  # "Faina D. Yefremova"
        return gap == ", " and a.text.isupper() and b.text.isupper() and len(b.text) > 1

    def _kind(self, ctx: ScanContext, tok: Token, cue: str) -> int:
        # The kind hangs on the word, on two facts about the cue and on the field, except for
        # places and months (the word after them counts): the same words recur in every text,
        # so the answer is kept instead of looking them up in the lexicons again.
        memo_key = (tok.text, cue in self.STRONG_CUES, cue in self.ABBREVIATED_CUES, ctx.is_filename)
        kind = self._kinds.get(memo_key)
        if kind is None:
            kind = self._word_kind(tok.text, cue, ctx.is_filename)
            if len(self._kinds) >= _MEMO_SIZE:
                self._kinds.clear()
            self._kinds[memo_key] = kind
        if kind == PLACE_OR_MONTH:
            # Georgia, Virginia, April, June: names too, but alone more often places and months
            return BLOCK if self._digit_next.match(ctx.masked, tok.end) else WEAK
        return kind

    def _word_kind(self, text: str, cue: str, is_filename: bool) -> int:
        if len(text) == 1:
            return INITIAL if text.isupper() or text not in "ai" else BLOCK
        key = fold(text)
        cap = text[0].isupper()
        if not cap and key in self.PARTICLES:
            return PARTICLE
        if key in STATE_NAMES or key in self.MONTHS:
            return PLACE_OR_MONTH
        if key in self.STOP:
            return BLOCK
        if cap and ((len(text) < 4 and text.isupper()) or self._plural_acronym.fullmatch(text)):
            return BLOCK  # acronyms (IP, RD, UUIDs)
        lex = self.lexicons
        parts = key.split("-")
        named = [p for p in parts if p in lex.first_names or p in lex.surnames]
        worded = all(p in lex.words for p in parts)
        if named and not worded:
            return STRONG
        if named:
            return WEAK if cap or cue in self.STRONG_CUES else BLOCK
        if worded or text.isupper():
            return BLOCK  # a word, or an acronym the lists do not know (VBID)
        if not cap and (is_filename or cue not in self.ABBREVIATED_CUES):
            return BLOCK  # unknown lower-case words are names only after "mbr", "pt", "dr"
        if self.WORDLIKE.search(key):
            return BLOCK  # Allowlisting, Onboarding: an English word the list lacks
        if cap and len(key) > 4 and self.SURNAME_ENDING.search(key):
            return STRONG
        return UNKNOWN

    def _judge_run(self, ctx: ScanContext, run: list[Token], prev: dict[int, str]) -> Iterable[Finding]:
        kinds = [self._kind(ctx, t, prev.get(t.start, "")) for t in run]
        if ctx.is_filename and len(run) > 1:
            kinds = self._beside_first_name(run, kinds)
        i = 0
        while i < len(run):
            if kinds[i] in (BLOCK, PARTICLE, INITIAL):
                i += 1
                continue
            j = i
            while j < len(run) and kinds[j] != BLOCK:
                j += 1
            # a leading surname that is also a word is the sentence's verb or noun ("Call Rosa")
            if kinds[i] == WEAK and j - i > 1 and not any(
                    p in self.lexicons.first_names for p in fold(run[i].text).split("-")):
                i += 1
            k = j
            while k > i and kinds[k - 1] == PARTICLE:
                k -= 1
            if k > i:
                f = self._score(ctx, run[i:k], kinds[i:k])
                if f is not None:
                    yield f
            i = j + 1

    def _beside_first_name(self, run: list[Token], kinds: list[int]) -> list[int]:
        """In a file name every word is lower-case alike: an unknown word (no English word, no listed
        name) joined to a first name is the rest of that name (saoirse_lindqvist, lindqvist-saoirse)."""
        lex = self.lexicons
        out = list(kinds)
        for i, tok in enumerate(run):
            if kinds[i] != BLOCK or len(tok.text) < 3 or not tok.text.isalpha():
                continue
            key = fold(tok.text)
            if key in lex.words or key in self.STOP or self.WORDLIKE.search(key):
                continue
            if any(0 <= j < len(run) and kinds[j] == STRONG and fold(run[j].text) in lex.first_names
                   for j in (i - 1, i + 1)):
                out[i] = UNKNOWN
        return out

    def _score(self, ctx: ScanContext, toks: list[Token], kinds: list[int]) -> Finding | None:
        core = [k for k in kinds if k in (STRONG, WEAK, UNKNOWN)]
        if not core:
            return None
        strong, weak, unknown = core.count(STRONG), core.count(WEAK), core.count(UNKNOWN)
        lower = not toks[0].text[0].isupper() and not ctx.is_filename
        lex = self.lexicons
        if len(core) >= 2:
            if strong and not (lower and strong < 2):
                score = 0.85 if not lower else 0.65
            elif weak and (unknown or (fold(toks[0].text) in lex.first_names
                                       and fold(toks[-1].text) in lex.surnames)):
                score = 0.65
            elif weak:
                score = 0.45
            else:
                score = 0.4
        else:
            key = fold(toks[0].text)
            if strong:
                score = (0.7 if key in lex.first_names else 0.55) - (0.35 if lower else 0.0)
            elif weak:
                score = 0.25 if key in lex.common_first_names else 0.1
            else:
                score = 0.25
        if INITIAL in kinds[1:-1] or (len(kinds) > 1 and kinds[-1] == INITIAL and toks[0].text.isupper()):
            score += 0.25  # "Ravil G Yefimov", "ROSA M": a middle initial
        if ctx.is_filename and not weak:
            score += 0.2
            if self.FILENAME_CUES.search(ctx.masked):
                score += 0.2  # "Okafor_DOB_...", "..._labs.pdf": the file is about a person
        if any(t.end == n.start for t, n in zip(toks, toks[1:], strict=False)):
            score += 0.25  # a camel-cased pair (RosaDelgado) is a name written as a handle
        start, end = toks[0].start, toks[-1].end
        score += self._context_boost(ctx, start, end, len(core))
        return self.finding("NAME", start, end, score) if score >= 0.1 else None

    def _context_boost(self, ctx: ScanContext, start: int, end: int, size: int) -> float:
        text = ctx.masked
        before = text[max(0, start - 40):start]
        low = before.lower()  # every word of `_name_cue` has letters whose case folds simply
        prev_words = self._words.findall(before)
        prev = fold(prev_words[-1]) if prev_words else ""
        boost = 0.0
        if prev in self.TITLES and self._title_gap.search(before):
            boost = 0.5
        elif ("name" in low or "call" in low or "change" in low) and self._name_cue.search(before):
            boost = 0.45
        elif prev in self.PERSON_CUES or before.rstrip().endswith("@"):
            boost = 0.4
        elif self._weak_cue.search(before):
            boost = 0.3
        if self._line_start.search(before):
            if self._speaker.match(text, end):
                boost = max(boost, 0.35)  # a speaker label: "Nicole: ..."
            elif size >= 2 and self._line_end.match(text, end):
                boost = max(boost, 0.25)  # a name alone on its line, as in a signature or address block
        if prev in ("in", "near", "at") and fold(text[start:end]) in self.lexicons.places:
            return -0.3  # "lives in Marion": the place reading wins
        nxt = self._next_word.match(text, end)
        if nxt:
            word = fold(nxt.group(1))
            if nxt.group(1).startswith(("'", "’")) or word in self.VERBS_AFTER:
                boost = max(boost, 0.35)
        return boost
