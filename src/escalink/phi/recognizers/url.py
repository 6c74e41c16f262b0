"""Web addresses and handles that point at a person."""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from typing import ClassVar

from escalink.phi.recognizers._patterns import PatternRecognizer
from escalink.phi.registry import Pattern, ScanContext, register
from escalink.phi.text import fold, matches_at

# Sites whose paths are people's pages: a link there identifies its owner.
PERSONAL_HOSTS: tuple[str, ...] = (
    "facebook.com", "fb.com", "instagram.com", "twitter.com", "x.com", "tiktok.com", "linkedin.com",
    "youtube.com", "youtu.be", "linktr.ee", "pinterest.com", "reddit.com", "threads.net", "snapchat.com",
    "medium.com", "substack.com", "github.com", "venmo.com", "cash.app", "paypal.me", "legacy.com",
    "strava.com", "myfitnesspal.com", "gofundme.com", "caringbridge.org", "tumblr.com", "flickr.com",
)
# what a host name is made of, and what may stand before its first dot in a match ("https://www.")
_HOST_CHARS = frozenset(string.ascii_letters + string.digits + "-")
_LEAD_CHARS = _HOST_CHARS | frozenset(":/.")
PERSONAL_PATH = re.compile(r"/(?:@|~|u/|user/|users/|profile|people/|in/|obituar)", re.IGNORECASE)


@register
class UrlRecognizer(PatternRecognizer):
    """URLs on personal-page hosts, with a profile-like path, or with a name in the path;
    product, help-center and documentation links are left alone."""

    name = "url"
    labels = ("URL",)
    order = 20
    PATTERNS: ClassVar[tuple[Pattern, ...]] = (
        Pattern("url", r"(?<![\w@.])(?:https?://)?(?:www\.)?(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?:/[^\s\"'<>()]*)?"
                r"(?<![.,;:!?)])", 0.4),
    )

    def candidates(self, ctx: ScanContext, pattern: Pattern, rx: re.Pattern[str]) -> Iterator[re.Match[str]]:
        # Every match has a dot with only `_LEAD_CHARS` between its start and that dot, and
        # starts at a host character that follows no word character, "@" or dot: trying the
        # pattern only there spares an attempt at every character of a long text.
        text = ctx.masked
        starts: list[int] = []
        floor = 0  # characters before it were looked at from an earlier dot
        dot = text.find(".")
        while dot >= 0:
            pos = dot
            while pos > floor and text[pos - 1] in _LEAD_CHARS:
                pos -= 1
            starts.extend(p for p in range(pos, dot)
                          if text[p] in _HOST_CHARS and (p == pos or text[p - 1] in ":/-"))
            floor = dot + 1
            dot = text.find(".", floor)
        return matches_at(rx, text, starts)

    def adjust(self, ctx: ScanContext, match: re.Match[str], start: int, end: int, score: float) -> float:
        url = match.group()
        bare = re.sub(r"^https?://(?:www\.)?", "", url, flags=re.IGNORECASE)
        host, _, path = bare.partition("/")
        if not path or "." not in host or re.fullmatch(r"[\d.]+", host) or host[-1].isdigit():
            return 0.0
        if host.split(".")[-1].lower() in {"png", "jpg", "jpeg", "pdf", "txt", "log", "csv", "json", "mov", "heic"}:
            return 0.0
        host_l = host.lower()
        if any(host_l == h or host_l.endswith("." + h) for h in PERSONAL_HOSTS):
            return 0.9
        if PERSONAL_PATH.search("/" + path):
            return 0.8
        lex = self.lexicons
        parts = [fold(p) for p in re.split(r"[^A-Za-z\u00C0-\u024F]+", path) if len(p) > 2]
        named = [p for p in parts if (p in lex.first_names or p in lex.surnames) and p not in lex.name_words]
        return 0.7 if len(named) >= 2 else 0.0
