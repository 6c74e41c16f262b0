"""`escalink phi`: scan text or a corpus for PHI, and score predictions against a gold corpus."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from escalink.phi.config import load_config
from escalink.phi.detector import Detector, redact
from escalink.phi.scoring import evaluate, format_report, read_jsonl

phi_app = typer.Typer(help="Find PHI in escalation text.", no_args_is_help=True)

ConfigOption = Annotated[Path | None, typer.Option("--config", help="phi.yaml to use instead of the shipped one")]


def _detector(config: Path | None) -> Detector:
    return Detector(load_config(config))


def _predict(detector: Detector, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": r["id"],
             "spans": [f.as_span() for f in detector.scan(r.get("text", ""), r.get("field", "description"))]}
            for r in records]


@phi_app.command()
def scan(
    file: Annotated[str | None, typer.Argument(help="Text file to scan, or - for standard input")] = None,
    jsonl: Annotated[Path | None, typer.Option("--jsonl", help="Corpus of {id, field, text} records")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Where --jsonl predictions go")] = None,
    field: Annotated[str, typer.Option(help="Field the text comes from (filename, summary...)")] = "description",
    as_json: Annotated[bool, typer.Option("--json", help="Print findings as JSON")] = False,
    config: ConfigOption = None,
) -> None:
    """Print the PHI found in a text (exit status 1 when there is some), or write one prediction a line
    for a corpus."""
    detector = _detector(config)
    if jsonl is not None:
        lines = "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in _predict(detector, read_jsonl(jsonl)))
        if output is None:
            sys.stdout.write(lines)
        else:
            output.write_text(lines, encoding="utf-8")
        return
    if file is None:
        raise typer.BadParameter("give a FILE, - for standard input, or --jsonl")
    text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    findings = detector.scan(text, field)
    # The flagged values themselves are never printed (PHI stays where it was): positions, labels
    # and the redacted text say what was found.
    redacted = redact(text, findings)
    if as_json:
        typer.echo(json.dumps({"findings": [{"label": f.label, "start": f.start, "end": f.end, "score": f.score,
                                             "recognizer": f.recognizer} for f in findings],
                               "redacted": redacted}, ensure_ascii=False, indent=2))
        raise typer.Exit(1 if findings else 0)
    table = Table("label", "start", "end", "score", "recognizer")
    for f in findings:
        table.add_row(f.label, str(f.start), str(f.end), f"{f.score:.2f}", f.recognizer)
    console = Console()
    if findings:
        console.print(table)
        console.print(redacted, markup=False, highlight=False)
    else:
        console.print("No PHI found.")
    # Like grep: scripts can test for PHI with the exit status.
    raise typer.Exit(1 if findings else 0)


@phi_app.command("eval")
def eval_(
    gold: Annotated[Path, typer.Argument(help="Gold corpus: {id, field, text, spans[, ignore]} records")],
    predictions: Annotated[Path | None, typer.Option("--pred", help="Score these predictions instead"
        " of scanning")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON")] = False,
    config: ConfigOption = None,
) -> None:
    """Scan a gold corpus (or read predictions) and print leak rate, recall, precision, blocks."""
    records = read_jsonl(gold)
    preds = read_jsonl(predictions) if predictions else _predict(_detector(config), records)
    by_id = {r["id"]: r for r in records}
    unknown = [p["id"] for p in preds if p["id"] not in by_id]
    if unknown:
        raise typer.BadParameter(f"predictions for unknown ids: {unknown[:5]}")
    report = evaluate(by_id, {p["id"]: p["spans"] for p in preds})
    typer.echo(json.dumps(report, indent=2) if as_json else format_report(report))
