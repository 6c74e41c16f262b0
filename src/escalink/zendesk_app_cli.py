"""`escalink zendesk-app package`: check zendesk-app/ and zip it for upload to Zendesk.

Zendesk wants manifest.json, translations/<locale>.json, assets/logo.png (320x320) and
assets/logo-small.png (128x128) at the root of the zip (Zendesk "Setting up new apps", file requirements).
The sidebar must be served by Escalink with `"signedUrls": true`, so that every sign-in carries the token
Escalink verifies; a package without it is refused here rather than failing later in Zendesk.
"""

from __future__ import annotations

import json
import re
import struct
import zipfile
from pathlib import Path
from typing import Annotated, Any

import typer

APP_DIR = Path(__file__).resolve().parents[2] / "zendesk-app"  # the repository's copy
ZIP_NAME = "escalink-zendesk-app.zip"
LOGOS = {"assets/logo.png": (320, 320), "assets/logo-small.png": (128, 128)}
SIGN_IN_PATH = "/app/zaf"
_SETTING = re.compile(r"\{\{setting\.([A-Za-z0-9_]+)\}\}")

zendesk_app = typer.Typer(help="The Zendesk app that puts Escalink in the ticket sidebar.", no_args_is_help=True)


def validate(app_dir: Path) -> list[str]:
    """Every problem of the app folder at once; empty when it can be uploaded."""
    manifest_file = app_dir / "manifest.json"
    if not manifest_file.is_file():
        return [f"{manifest_file}: missing"]
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        return [f"manifest.json: not valid JSON ({exc})"]
    if not isinstance(manifest, dict):
        return ["manifest.json: must be a JSON object"]
    problems = _manifest_problems(manifest)
    locale = manifest.get("defaultLocale") if isinstance(manifest.get("defaultLocale"), str) else "en"
    problems += _translation_problems(app_dir / "translations" / f"{locale}.json", _parameter_names(manifest))
    for name, size in LOGOS.items():
        actual = png_size(app_dir / name)
        if actual is None:
            problems.append(f"{name}: missing or not a PNG")
        elif actual != size:
            problems.append(f"{name}: must be {size[0]}x{size[1]} pixels, is {actual[0]}x{actual[1]}")
    return problems


def _manifest_problems(manifest: dict[str, Any]) -> list[str]:
    problems = [f"manifest.json: {key} is required" for key in
                ("name", "author", "defaultLocale", "location", "frameworkVersion") if not manifest.get(key)]
    author = manifest.get("author")
    if author and not (isinstance(author, dict) and author.get("name") and author.get("email")):
        problems.append("manifest.json: author needs a name and an email")
    if manifest.get("frameworkVersion") and not str(manifest["frameworkVersion"]).startswith("2."):
        problems.append("manifest.json: frameworkVersion must be 2.x (the sidebar is an iframe app)")
    if manifest.get("signedUrls") is not True:
        problems.append("manifest.json: signedUrls must be true, so Zendesk signs every sign-in to Escalink")
    sidebar = (manifest.get("location") or {}).get("support", {}) if isinstance(manifest.get("location"), dict) \
        else {}
    sidebar = sidebar.get("ticket_sidebar") if isinstance(sidebar, dict) else None
    url = sidebar.get("url") if isinstance(sidebar, dict) else sidebar
    if not isinstance(url, str) or not url:
        problems.append("manifest.json: location.support.ticket_sidebar.url is required")
        return problems
    if not url.rstrip("/").endswith(SIGN_IN_PATH):
        problems.append(f"manifest.json: the ticket_sidebar url must end with {SIGN_IN_PATH}, Escalink's sign-in")
    if not (url.startswith("https://") or url.startswith("{{setting.")):
        problems.append("manifest.json: the ticket_sidebar url must be https (or start with a {{setting.*}})")
    declared = _parameter_names(manifest)
    for name in _SETTING.findall(url):
        if name not in declared:
            problems.append(f"manifest.json: the ticket_sidebar url uses setting {name!r}, not among parameters")
    for i, param in enumerate(manifest.get("parameters") or []):
        if not (isinstance(param, dict) and param.get("name") and param.get("type")):
            problems.append(f"manifest.json: parameters[{i}] needs a name and a type")
    return problems


def _parameter_names(manifest: dict[str, Any]) -> set[str]:
    params = manifest.get("parameters") or []
    return {str(p["name"]) for p in params if isinstance(p, dict) and p.get("name")} \
        if isinstance(params, list) else set()


def _translation_problems(path: Path, parameters: set[str]) -> list[str]:
    rel = f"translations/{path.name}"
    if not path.is_file():
        return [f"{rel}: missing"]
    try:
        app = json.loads(path.read_text(encoding="utf-8")).get("app")
    except (ValueError, UnicodeDecodeError, AttributeError):
        return [f"{rel}: not a JSON object"]
    if not isinstance(app, dict):
        return [f"{rel}: app is required"]
    problems = [f"{rel}: app.{key} is required" for key in ("name", "short_description") if not app.get(key)]
    raw_labels = app.get("parameters")
    labels: dict[str, Any] = raw_labels if isinstance(raw_labels, dict) else {}
    problems += [f"{rel}: app.parameters.{name}.label is required" for name in sorted(parameters)
                 if not (isinstance(labels.get(name), dict) and labels[name].get("label"))]
    return problems


def png_size(path: Path) -> tuple[int, int] | None:
    """Width and height from a PNG's header; None when the file is missing or not a PNG."""
    try:
        head = path.read_bytes()[:24]
    except OSError:
        return None
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", head[16:24])
    return int(width), int(height)


def build_zip(app_dir: Path, out_dir: Path) -> Path:
    """Write the upload zip (files at its root, hidden files left out) and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / ZIP_NAME
    files = sorted(p for p in app_dir.rglob("*") if p.is_file()
                   and not any(part.startswith(".") for part in p.relative_to(app_dir).parts)
                   and p.resolve() != target.resolve())
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in files:
            zf.write(path, path.relative_to(app_dir).as_posix())
    return target


@zendesk_app.command("package")
def package(
    out: Annotated[Path, typer.Option(help="Folder the zip is written to")] = Path("dist"),
    app_dir: Annotated[Path, typer.Option(help="The app's folder")] = APP_DIR,
) -> None:
    """Check the app (manifest, translations, logos) and write escalink-zendesk-app.zip to upload."""
    if not app_dir.is_dir():
        typer.echo(f"No Zendesk app folder at {app_dir}: run this from a checkout of Escalink "
                   "(it has zendesk-app/ at its root), or pass --app-dir.", err=True)
        raise typer.Exit(2)
    problems = validate(app_dir)
    if problems:
        for problem in problems:
            typer.echo(problem, err=True)
        raise typer.Exit(1)
    typer.echo(str(build_zip(app_dir, out).resolve()))
