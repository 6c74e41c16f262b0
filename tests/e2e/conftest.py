from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from escalink.sandbox.demo import is_discovery
from escalink.sandbox.stack import Stack, start_stack


@pytest.fixture(params=["cloud", "datacenter"])
def flavor(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def stack(flavor: str, database_url: str) -> Iterator[Stack]:
    with start_stack(flavor=flavor, database_url=database_url) as s:
        yield s


@pytest.fixture
def api(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        yield client


def draft_json(stack: Stack, seed_ticket: int, **over: Any) -> dict[str, Any]:
    data = stack.emulators.seed.draft(seed_ticket).model_dump(mode="json", exclude_none=True)
    data.update(over)
    return data


def counted_calls(stack: Stack, mark: int) -> list[Any]:
    return [c for c in stack.emulators.recorder.since(mark) if not is_discovery(c)]
