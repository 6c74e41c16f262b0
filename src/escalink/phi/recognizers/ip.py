"""IPv4 and IPv6 addresses."""

from __future__ import annotations

import ipaddress
import re
from typing import ClassVar

from escalink.phi.recognizers._patterns import PatternRecognizer
from escalink.phi.registry import Pattern, ScanContext, register


@register
class IpRecognizer(PatternRecognizer):
    """IP addresses; candidates are parsed, so 999.1.1.1 or a clock time never pass."""

    name = "ip"
    labels = ("IP",)
    order = 10
    PATTERNS: ClassVar[tuple[Pattern, ...]] = (
        Pattern("ipv4", r"(?=\d)(?<![A-Za-z0-9.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)", 0.9, starts="0",
                run=(1, 3, ".")),
        Pattern("ipv6", r"(?=[0-9A-Fa-f])(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){2,7}(?::|[0-9A-Fa-f]{1,4})("
            r"?:[0-9A-Fa-f]{0,4}:?)*"
                r"(?![\w:])|(?<![\w:])::(?:[0-9A-Fa-f]{1,4}:){0,6}[0-9A-Fa-f]{1,4}(?![\w:])", 0.9,
                starts=":", back=4),  # a colon within the first five characters of every match
    )

    def adjust(self, ctx: ScanContext, match: re.Match[str], start: int, end: int, score: float) -> float:
        try:
            addr = ipaddress.ip_address(match.group())
        except ValueError:
            return 0.0
        if addr.version == 6 and match.group().count(":") < 3:
            return 0.0  # too short to tell from a ratio or a time
        return score
