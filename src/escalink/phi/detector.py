"""The detector: mask what is allowed, run the enabled recognizers, keep one finding per place."""

from __future__ import annotations

from functools import cache
from operator import itemgetter

from escalink.phi.config import PhiConfig, load_config
from escalink.phi.lexicons import Lexicons, load_lexicons
from escalink.phi.mask import FILL, Masker
from escalink.phi.model import Finding
from escalink.phi.registry import Recognizer, ScanContext, registered
from escalink.phi.text import looks_like_filename, tokens

_TEXT = itemgetter(0)  # a token's text, read in C code
FILENAME_FIELDS = frozenset({"filename", "file_name", "attachment", "attachment_name"})


class Detector:
    """Finds PHI in one text field at a time. Thread-safe once built: `scan` keeps no state."""

    def __init__(self, config: PhiConfig | None = None, lexicons: Lexicons | None = None) -> None:
        self.config = config or load_config()
        lex = lexicons or load_lexicons()
        classes = registered()
        unknown = sorted(set(self.config.recognizers) - set(classes))
        if unknown:
            raise ValueError(f"unknown recognizers in configuration: {', '.join(unknown)}")
        self.recognizers: list[Recognizer] = [
            cls(lex, self.config.recognizer(name).options)
            for name, cls in sorted(classes.items(), key=lambda kv: (kv[1].order, kv[0]))
            if self.config.recognizer(name).enabled
        ]
        self._thresholds = {r.name: self.config.threshold_for(r.name) for r in self.recognizers}
        self.masker = Masker(self.config.allow_list)

    def scan(self, text: str, field: str = "description") -> list[Finding]:
        """Findings in `text`, sorted by position, never overlapping."""
        if not text:
            return []
        toks = tokens(text)
        lowered = list(map(str.lower, map(_TEXT, toks)))
        masked = self.masker.mask(text, toks, lowered)
        is_filename = field.lower() in FILENAME_FIELDS or looks_like_filename(text)
        # words that masking blanked are gone for the recognizers
        if FILL in masked:
            keep = [i for i, t in enumerate(toks) if masked[t.start] != FILL and masked[t.end - 1] != FILL]
            if len(keep) < len(toks):
                toks = [toks[i] for i in keep]
                lowered = [lowered[i] for i in keep]
        ctx = ScanContext(text=text, masked=masked, field=field, is_filename=is_filename, tokens=toks,
                          known_lowered=lowered)
        for rec in self.recognizers:
            threshold = self._thresholds[rec.name]
            ctx.found.extend(f for f in rec.analyze(ctx) if f.score >= threshold and f.end > f.start)
        return merge(ctx.found)


def merge(findings: list[Finding]) -> list[Finding]:
    """One finding per cluster of overlapping ones: the union of their spans, labelled by the
    most confident. The union matters more than the label: whatever is covered is redacted."""
    out: list[Finding] = []
    for f in sorted(findings, key=lambda f: (f.start, -f.end)):
        if out and f.start < out[-1].end:
            last = out[-1]
            best = last if last.score >= f.score else f
            out[-1] = Finding(best.label, last.start, max(last.end, f.end), best.score, best.recognizer)
        else:
            out.append(f)
    return out


@cache
def default_detector() -> Detector:
    """The detector with the shipped configuration, built on first use."""
    return Detector()


def scan(text: str, field: str = "description") -> list[Finding]:
    """Scan with the shipped configuration."""
    return default_detector().scan(text, field)


def redact(text: str, findings: list[Finding]) -> str:
    """Replace each finding's span by `[LABEL]` (overlaps are merged first)."""
    parts: list[str] = []
    pos = 0
    for f in merge(list(findings)):
        if f.start < pos:
            continue
        parts.append(text[pos:f.start])
        parts.append(f"[{f.label}]")
        pos = f.end
    parts.append(text[pos:])
    return "".join(parts)
