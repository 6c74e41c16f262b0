from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from escalink.cli import app


def test_export_from_a_missing_sqlite_file_says_so_and_creates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "nowhere.db"
    result = CliRunner(env={"ESCALINK_DATABASE_URL": f"sqlite:///{db}"}).invoke(
        app, ["audit", "export", "--since", "2026-01-01T00:00:00Z"]
    )
    assert result.exit_code == 1 and "No database at" in result.output
    assert not db.exists()
