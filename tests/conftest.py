"""Shared fixtures: database URLs for every engine the suite runs on."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from sqlalchemy import create_engine, text

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
# Jobs run in the request unless a test asks for the embedded or Redis queue itself.
os.environ.setdefault("ESCALINK_JOBS_BACKEND", "immediate")

PG_URL = os.environ.get("ESCALINK_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("ESCALINK_TEST_REDIS_URL", "")

DB_PARAMS = [pytest.param("sqlite", id="sqlite")]
if PG_URL:
    # Only listed when configured (CI sets it): on a machine without PostgreSQL these tests
    # do not exist rather than being skipped.
    DB_PARAMS.append(pytest.param("postgres", id="postgres", marks=pytest.mark.postgres))


@pytest.fixture(params=DB_PARAMS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'escalink.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """Commands under test configure structlog globally (level, output); undo it after each test."""
    yield
    structlog.reset_defaults()
