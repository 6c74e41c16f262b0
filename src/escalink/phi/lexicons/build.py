"""Rebuild the compressed name and place lexicons from their public sources.

Usage: python -m escalink.phi.lexicons.build SHARED_LEXICONS_DIR WORDS_FILE GEONAMES_DATA_DIR

The sources are listed in SOURCES.md beside this file. Entries are stored folded (see
`escalink.phi.text.fold`) so that lookups need no per-call normalisation of the lists.
"""

from __future__ import annotations

import csv
import gzip
import json
import sys
from pathlib import Path

from escalink.phi.text import fold

HERE = Path(__file__).resolve().parent
# Given to at least this many US babies since 1880: common enough that a capitalised
# "Grace" or "Will" in a ticket may be the name.
COMMON_FIRST_NAME_COUNT = 20000


def _write(name: str, entries: set[str]) -> None:
    data = "\n".join(sorted(e for e in entries if e)) + "\n"
    # mtime=0 keeps the files byte-identical between rebuilds
    with open(HERE / name, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
        out.write(data.encode("utf-8"))


def _lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def build(shared: Path, words_file: Path, geonames: Path) -> None:
    first: set[str] = set()
    common: set[str] = set()
    with open(shared / "ssa-first-names" / "ssa_national_firstnames_all_years.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            first.add(fold(row["name"]))
            if int(row["count_all_years"]) >= COMMON_FIRST_NAME_COUNT:
                common.add(fold(row["name"]))
    for part in ("dist.female.first", "dist.male.first"):
        first |= {fold(line.split()[0]) for line in _lines(shared / "census-1990" / part)}
    last = {fold(line.split()[0]) for line in _lines(shared / "census-1990" / "dist.all.last")}
    # Only lower-case dictionary entries are common words; capitalised ones are proper nouns.
    words = {w for w in _lines(words_file) if w.islower() and "'" not in w}
    _write("first_names.txt.gz", first)
    _write("common_first_names.txt.gz", common)
    _write("surnames.txt.gz", last)
    _write("english_words.txt.gz", words)
    cities = json.loads((geonames / "cities5000.json").read_text(encoding="utf-8"))
    places = {c["name"] for c in cities.values() if c["countrycode"] == "US"}
    counties = json.loads((geonames / "us_counties.json").read_text(encoding="utf-8"))
    places |= {c["name"] for c in counties}
    _write("us_places.txt.gz", places)


if __name__ == "__main__":
    build(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
