"""The detector tries patterns only where they can match and skips those whose cue words are
absent; with every such shortcut switched off it must find exactly the same."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from escalink.phi import Detector, Finding, default_detector
from escalink.phi import mask as mask_module
from escalink.phi import registry as registry_module
from escalink.phi import text as text_module
from escalink.phi.recognizers import _patterns, address, clinical, dates, email, ids, url
from escalink.phi.registry import ScanContext

FIXTURES = Path(__file__).parent / "fixtures"

# Pieces that exercise the shortcuts: digit runs of every length next to every separator,
# digits of other scripts, letters that match ASCII ones only case-insensitively (ſ K ı İ),
# and the cue words the shortcuts look for.
PIECES = (
    "0", "1", "12", "123", "1234", "12345", "123456789", "5550134", "4155550134", "14155550134",
    "-", "/", ".", ":", " ", "  ", "\n", "+", "(", ")", "@", "#", ",", "_", "&", "’", "'", "\t", "\u00a0",
    "\u0663", "\u0665\u0661", "\uff15", "\u017f", "\u017fsn", "\u212a", "\u0130", "\u0131",
    "ssn", "SSN", "ss#", "social security", "last 4", "last four of her SSN is", "ending in",
    "bp", "BP ", "b", "p", "age", "aged", "years old", "yo", "(94)", "Mrs. Rosa Delgado",
    "zip", "ZIP code", "postal code", "P.O. Box", "PSC", "County", "Parish", "Borough", "Springfield, IL",
    "CA", "NY", "Main St", "Apt", "v", "V", "am", "PM", "a.m.", "KB", "MB", "ms", "Internal", "error",
    "rosa.delgado", "example.com", "x.org/u/rosa", "fe80", "::", "ab", "GB82", "WEST", "4111 1111 1111 1111",
    "pregnant", "weeks", "A1C", "mg", "lbs", "kg", "mg/dL", "of", "Jan", "June", "2nd", "1961", "2024",
    "name is", "called", "Dr.", "mbr", "Rosa", "Delgado", "and", "MRN", "member ID", "card", "IBAN",
    "phone", "fax", "x4", "ext", "ESCA", "E", "MS-Consult", "iPhone", "build", "ticket",
)


def _fuzz(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(PIECES) for _ in range(rng.randint(20, 120))) for _ in range(count)]


def _fields(name: str, count: int) -> list[str]:
    """2 KB texts made by joining corpus records, as long escalation fields are."""
    records = [json.loads(line) for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines() if line]
    out, buf = [], ""
    for r in records * 3:
        buf += r["text"] + "\n"
        if len(buf) >= 2048:
            out.append(buf[:2048])
            buf = ""
        if len(out) >= count:
            break
    return out


def _everywhere(rx: re.Pattern[str], text: str, starts: Sequence[int]) -> Iterator[re.Match[str]]:
    return rx.finditer(text)


# one text for each cue a shortcut looks for, written as a member would
CUED = (
    "SS# ending in 4417", "\u017f\u017fn last 4: 4417", "social 4417", "last four of his SSN is 4417",
    "file ssn_4417.pdf", "Aged 93 and well", "she is 94 yrs old", "Mrs. Ada Quint (96) called",
    "PO Box 771, zip 60614", "postal code 60614", "Cook County", "Orleans Parish", "Kings Borough",
    "Springfield, IL 62701", "lives at 12 Elm St, Salem, OR 97301", "rosa.d+x@example.org",
    "fe80::1ff:fe23:4567:890a", "IBAN GB82WEST12345698765432", "BP 150/95 and 12 weeks pregnant",
    "weighs 187 lbs", "ESCA-2210 at 10:30am, v8.14.0 (BP7450)", "\u0663\u0665 5550134 \u212a",
)
TEXTS = (_fields("dev.jsonl", 20) + _fields("public/presidio-synth-v2.jsonl", 20) + list(CUED)
         + _fuzz(20240618, 200))
FIELDS = ("description", "filename")


@pytest.fixture(scope="module")
def unpruned() -> dict[str, list[list[Finding]]]:
    """Findings of a detector that runs every pattern over the whole text (the patch is global,
    so the shipped detector must not scan while it is in place)."""
    with pytest.MonkeyPatch.context() as mp:
        for module in (text_module, mask_module, _patterns, address, clinical, dates, email, ids, url):
            mp.setattr(module, "matches_at", _everywhere)
        mp.setattr(ScanContext, "may_contain", lambda self, *cues: True)
        # without the lower-cased text, cue and context patterns run case-insensitively on the text
        mp.setattr(registry_module, "case_folded", lambda text: None)
        ctx = ScanContext(text="x", masked="x", field="description", is_filename=False, tokens=[])
        assert ctx.may_contain("ssn") and ctx.folded is None
        detector = Detector()
        return {field: [detector.scan(text, field) for text in TEXTS] for field in FIELDS}


@pytest.mark.parametrize("field", FIELDS)
def test_findings_equal_without_shortcuts(unpruned: dict[str, list[list[Finding]]], field: str) -> None:
    assert _patterns.matches_at is not _everywhere
    fast = default_detector()
    for text, expected in zip(TEXTS, unpruned[field], strict=True):
        assert fast.scan(text, field) == expected, text


def test_tokens_and_digit_starts_are_exact() -> None:
    for text in TEXTS[-100:]:
        words = []
        for m in text_module.WORD_RE.finditer(text):
            word, start, end = m.group(), m.start(), m.end()
            if len(word) > 2 and word[-2] in "'’" and word[-1] in "sS":
                word, end = word[:-2], end - 2
            words.append((word, start, end))
        assert [tuple(t) for t in text_module.tokens(text)] == words
        starts = [i for i, c in enumerate(text) if re.match(r"\d", c) and (i == 0 or text[i - 1] not in "0123456789")]
        assert text_module.digit_starts(text) == starts
