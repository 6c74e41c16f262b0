"""Fixtures for the PHI detector tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from escalink.phi import Detector, default_detector


@pytest.fixture(scope="session")
def detector() -> Detector:
    return default_detector()


@pytest.fixture(scope="session")
def covered(detector: Detector) -> Callable[[str, str, str], bool]:
    """covered(text, part, field): every character of `part` lies inside some finding."""

    def check(text: str, part: str, field: str = "description") -> bool:
        start = text.index(part)
        chars = set(range(start, start + len(part)))
        for f in detector.scan(text, field):
            chars -= set(range(f.start, f.end))
        return not chars

    return check
