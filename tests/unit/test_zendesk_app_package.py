"""`escalink zendesk-app package`: the zip Zendesk accepts, and the checks that refuse a broken app."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from escalink.cli import app
from escalink.zendesk_app_cli import APP_DIR, ZIP_NAME, png_size, validate

runner = CliRunner()


def test_the_shipped_app_is_valid() -> None:
    assert APP_DIR.is_dir()
    assert validate(APP_DIR) == []


def test_package_writes_the_zip_with_files_at_its_root(tmp_path: Path) -> None:
    result = runner.invoke(app, ["zendesk-app", "package", "--out", str(tmp_path / "dist")])
    assert result.exit_code == 0, result.output
    zip_path = Path(result.output.strip())
    assert zip_path == (tmp_path / "dist" / ZIP_NAME).resolve()
    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
        assert {"manifest.json", "translations/en.json", "assets/logo.png", "assets/logo-small.png"} <= names
        manifest = json.loads(zf.read("manifest.json"))
        translations = json.loads(zf.read("translations/en.json"))
        logo = zf.read("assets/logo.png")
    assert manifest["signedUrls"] is True
    assert manifest["frameworkVersion"] == "2.0"
    sidebar = manifest["location"]["support"]["ticket_sidebar"]
    assert sidebar["url"] == "{{setting.escalink_url}}/app/zaf"
    assert sidebar["flexible"] is True
    assert [p["name"] for p in manifest["parameters"]] == ["escalink_url"]
    assert translations["app"]["parameters"]["escalink_url"]["label"]
    assert logo.startswith(b"\x89PNG")


def test_png_sizes_are_read_from_the_header() -> None:
    assert png_size(APP_DIR / "assets" / "logo.png") == (320, 320)
    assert png_size(APP_DIR / "assets" / "logo-small.png") == (128, 128)


@pytest.fixture
def app_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(APP_DIR, tmp_path / "zendesk-app"))


def _edit_manifest(app_dir: Path, **changes: object) -> None:
    path = app_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    for key, value in changes.items():
        if value is None:
            manifest.pop(key, None)
        else:
            manifest[key] = value
    path.write_text(json.dumps(manifest))


def test_every_problem_is_reported_and_no_zip_is_written(app_copy: Path, tmp_path: Path) -> None:
    _edit_manifest(app_copy, signedUrls=False, author=None,
                   location={"support": {"ticket_sidebar": {"url": "http://escalink.example.com/"}}})
    (app_copy / "assets" / "logo-small.png").write_bytes((app_copy / "assets" / "logo.png").read_bytes())
    result = runner.invoke(app, ["zendesk-app", "package", "--app-dir", str(app_copy),
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    for expected in ("author is required", "signedUrls must be true", "must end with /app/zaf", "must be https",
                     "logo-small.png: must be 128x128 pixels, is 320x320"):
        assert expected in result.output, result.output
    assert not (tmp_path / "out").exists()


def test_settings_in_the_url_must_be_declared_and_labelled(app_copy: Path) -> None:
    _edit_manifest(app_copy, location={"support": {"ticket_sidebar": {"url": "{{setting.base}}/app/zaf"}}},
                   parameters=[{"name": "other", "type": "text"}])
    problems = validate(app_copy)
    assert any("uses setting 'base'" in p for p in problems), problems
    assert any("app.parameters.other.label is required" in p for p in problems), problems


def test_a_missing_app_folder_is_reported(tmp_path: Path) -> None:
    result = runner.invoke(app, ["zendesk-app", "package", "--app-dir", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "No Zendesk app folder" in result.output
