"""The word lists the recognizers consult, loaded once from the package's data files."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from functools import cache
from importlib import resources

from escalink.phi.text import fold


def _read(name: str) -> list[str]:
    ref = resources.files("escalink.phi.lexicons").joinpath(name)
    raw = ref.read_bytes()
    if name.endswith(".gz"):
        raw = gzip.decompress(raw)
    lines = raw.decode("utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]


@dataclass(frozen=True, slots=True)
class Lexicons:
    """Folded first names, surnames, name-words, US places and clinical terms."""

    first_names: frozenset[str]
    common_first_names: frozenset[str]
    surnames: frozenset[str]
    # common lower-case English words, and the names among them (Will, Grace, Mark)
    words: frozenset[str]
    name_words: frozenset[str]
    places: frozenset[str]
    drugs: frozenset[str]
    conditions: frozenset[str]
    # conditions that are also program or product names: CLINICAL only when about a person
    product_conditions: frozenset[str]


@cache
def load_lexicons() -> Lexicons:
    """Read every shipped list (about 0.1 s, once per process)."""
    conditions, product = set(), set()
    for line in _read("conditions.txt"):
        term = fold(line.removesuffix(" *"))
        conditions.add(term)
        if line.endswith(" *"):
            product.add(term)
    first = frozenset(_read("first_names.txt.gz"))
    last = frozenset(_read("surnames.txt.gz"))
    words = frozenset(_read("english_words.txt.gz"))
    return Lexicons(
        first_names=first,
        common_first_names=frozenset(_read("common_first_names.txt.gz")),
        surnames=last,
        words=words,
        name_words=words & (first | last),
        places=frozenset(fold(p) for p in _read("us_places.txt.gz")),
        drugs=frozenset(fold(d) for d in _read("drugs.txt")),
        conditions=frozenset(conditions),
        product_conditions=frozenset(product),
    )
