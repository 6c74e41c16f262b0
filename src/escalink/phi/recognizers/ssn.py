"""Social security numbers: full, and the last four when named as such."""

from __future__ import annotations

from typing import ClassVar

from escalink.phi.recognizers._patterns import PatternRecognizer
from escalink.phi.registry import Pattern, register

_SSN_WORD = r"(?:ssn|ss#|social\s+security(?:\s+(?:number|no\.?|#))?|social)"


@register
class SsnRecognizer(PatternRecognizer):
    """123-45-6789 on shape; 123 45 6789 and nine bare digits with a cue; last four after a cue."""

    name = "ssn"
    labels = ("SSN",)
    order = 30
    PATTERNS: ClassVar[tuple[Pattern, ...]] = (
        Pattern("dashed", r"(?=\d)(?<![A-Za-z0-9-])(?!000|666)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-])", 0.85,
                starts="0", run=(3, 3, "-")),
        Pattern("spaced", r"(?=\d)(?<![A-Za-z0-9-])(?!000|666)\d{3} (?!00)\d{2} (?!0000)\d{4}(?![\w-])", 0.6,
                starts="0", run=(3, 3, " ")),
        Pattern("bare", r"(?=\d)(?<![A-Za-z0-9-])(?!000|666)\d{9}(?![\w-])", 0.25, starts="0", run=(9, 9, "")),
        Pattern("last4_after",
                r"(?i)" + _SSN_WORD + r"\W{0,3}(?:(?:ending|ends|that\s+ends)(?:\s+(?:in|with))?|"
                r"last\s*(?:4|four)(?:\s+digits)?(?:\s+of)?|xxx-xx-|\*{3}-\*{2}-)\W{0,3}(?P<v>\d{4})(?!\d)", 0.9,
                cues=("ssn", "ss#", "social")),
        Pattern("last4_before",
                r"(?i)last\s*(?:4|four)(?:\s+digits)?\s+(?:of\s+)?(?:(?:her|his|their|the|my|your)\s+)?"
                + _SSN_WORD + r"\s*(?:is|was|:|=)?\s*(?P<v>\d{4})(?!\d)", 0.9, cues=("last",)),
        Pattern("filename", r"(?i)(?<![a-z])ssn[\s_-]*(?P<v>\d{4})(?!\d)", 0.8, cues=("ssn",)),
    )
    CONTEXT: ClassVar[tuple[str, ...]] = (r"ssn", r"social", r"security", r"ss#", r"member number", r"tax id",
                                          r"tin")
    CONTEXT_BOOST = 0.35
