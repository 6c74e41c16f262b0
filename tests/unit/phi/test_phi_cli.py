"""The `phi` command line, equality with the corpus scorer, and quality floors on the corpora."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from escalink.phi.cli import phi_app
from escalink.phi.scoring import evaluate, read_jsonl

# Copies of the corpora live beside the tests (provenance in fixtures/SOURCES.md); the reference
# scorer is not ours to copy, so the equality checks run it from the shared folder next to the checkout.
CORPUS = Path(__file__).resolve().parent / "fixtures"
SCORER = Path(__file__).resolve().parents[3].parent / "shared" / "phi-corpus" / "tools" / "score.py"
needs_scorer = pytest.mark.skipif(not SCORER.exists(), reason="reference scorer (../shared) not beside the checkout")

RECORDS: list[dict[str, Any]] = [
    {"id": "r1", "field": "summary", "text": "Rosalind Achterberg locked out, logins from 203.0.113.77",
     "spans": [{"start": 0, "end": 19, "label": "NAME"}, {"start": 44, "end": 56, "label": "IP"}]},
    {"id": "r2", "field": "comment", "text": "Duplicate of ESCA-2187, closing.", "spans": []},
    {"id": "r3", "field": "filename", "text": "Achterberg_DOB_02171951.png",
     "spans": [{"start": 0, "end": 10, "label": "NAME"}, {"start": 15, "end": 23, "label": "DATE"}]},
]


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_scan_text_table_and_json(tmp_path: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(phi_app, ["scan", "-"], input="Call Dr. Achterberg at 602-555-0148")
    assert "PHONE" in out.output and "NAME" in out.output
    # values are never printed: only labels, positions and the redacted text
    assert "Achterberg" not in out.output and "602-555-0148" not in out.output
    assert "Call Dr. [NAME] at [PHONE]" in out.output
    assert out.exit_code == 1  # PHI found, like grep's "match"
    clean = runner.invoke(phi_app, ["scan", "-"], input="The sync failed on 3/14 at 2:05pm with HTTP 500")
    assert clean.exit_code == 0 and "No PHI found." in clean.output
    f = tmp_path / "t.txt"
    f.write_text("mail r.achterberg@example.com", encoding="utf-8")
    out = runner.invoke(phi_app, ["scan", str(f), "--json"])
    answer = json.loads(out.output)
    assert answer["findings"][0]["label"] == "EMAIL" and answer["redacted"] == "mail [EMAIL]"


def test_scan_jsonl_writes_predictions(tmp_path: Path) -> None:
    gold = _write(tmp_path / "gold.jsonl", RECORDS)
    out_path = tmp_path / "pred.jsonl"
    res = CliRunner().invoke(phi_app, ["scan", "--jsonl", str(gold), "-o", str(out_path)])
    assert res.exit_code == 0, res.output
    preds = read_jsonl(out_path)
    assert [p["id"] for p in preds] == ["r1", "r2", "r3"]
    assert {s["label"] for s in preds[0]["spans"]} == {"NAME", "IP"}
    assert preds[1]["spans"] == []
    assert all(set(s) == {"start", "end", "label"} for p in preds for s in p["spans"])


def test_eval_prints_the_figures(tmp_path: Path) -> None:
    gold = _write(tmp_path / "gold.jsonl", RECORDS)
    res = CliRunner().invoke(phi_app, ["eval", str(gold), "--json"])
    report = json.loads(res.output)
    assert report["records"] == 3 and report["entity_recall"] == 1.0 and report["false_block_rate"] == 0.0


def _score_py(gold: Path, pred: Path) -> str:
    return subprocess.run([sys.executable, str(SCORER), str(gold), str(pred)],
                          check=True, capture_output=True, text=True).stdout


@needs_scorer
@pytest.mark.parametrize("corpus", ["dev.jsonl", "public/presidio-synth-v2.jsonl"])
def test_eval_equals_corpus_scorer(tmp_path: Path, corpus: str) -> None:
    gold = CORPUS / corpus
    pred = tmp_path / "pred.jsonl"
    runner = CliRunner()
    assert runner.invoke(phi_app, ["scan", "--jsonl", str(gold), "-o", str(pred)]).exit_code == 0
    ours = runner.invoke(phi_app, ["eval", str(gold)]).output
    assert ours.strip() == _score_py(gold, pred).strip()
    ours_json = json.loads(runner.invoke(phi_app, ["eval", str(gold), "--pred", str(pred), "--json"]).output)
    theirs = json.loads(subprocess.run([sys.executable, str(SCORER), str(gold), str(pred),
                                        "--json"], check=True, capture_output=True, text=True).stdout)
    assert ours_json == theirs


@needs_scorer
def test_eval_equals_corpus_scorer_on_imperfect_predictions(tmp_path: Path) -> None:
    gold = CORPUS / "dev.jsonl"
    rows = read_jsonl(gold)
    # every third record predicts nothing, the others a shifted copy of the gold and one stray span
    preds = [{"id": r["id"], "spans": [] if i % 3 == 0 else
              [{"start": s["start"] + 1, "end": s["end"], "label": s["label"]} for s in r["spans"]]
              + [{"start": 0, "end": 1, "label": "ID"}]} for i, r in enumerate(rows)]
    pred = _write(tmp_path / "pred.jsonl", preds)
    ours = CliRunner().invoke(phi_app, ["eval", str(gold), "--pred", str(pred)]).output
    assert ours.strip() == _score_py(gold, pred).strip()


def _report(corpus: str, keep: int | None = None) -> dict[str, Any]:
    rows = read_jsonl(CORPUS / corpus)
    if keep is not None:
        rows = [r for i, r in enumerate(rows) if i % 4 == keep]
    from escalink.phi import scan

    return evaluate({r["id"]: r for r in rows}, {r["id"]: [f.as_span() for f in scan(r["text"], r["field"])]
                                                  for r in rows})


def test_quality_floor_dev() -> None:
    # measured: leak 0.0044, recall 0.995, precision 1.0, false blocks 0.0; the floors leave a little room
    r = _report("dev.jsonl")
    assert r["leak_rate"] <= 0.01
    assert r["entity_recall"] >= 0.985
    assert r["precision"] >= 0.97
    assert r["false_block_rate"] <= 0.03


def test_quality_floor_dev_every_fourth_record() -> None:
    # the quarter of dev.jsonl kept apart while tuning (measured: leak 0.014, recall 0.990)
    r = _report("dev.jsonl", keep=3)
    assert r["leak_rate"] <= 0.025
    assert r["entity_recall"] >= 0.97


def test_quality_floor_presidio_synth() -> None:
    # measured: NAME 0.907, PHONE 0.989, EMAIL/SSN/IP/ID 1.0
    per = _report("public/presidio-synth-v2.jsonl")["per_label"]
    for label, floor in {"NAME": 0.89, "PHONE": 0.97, "EMAIL": 0.98, "SSN": 0.98, "IP": 0.98, "ID": 0.98}.items():
        assert per[label]["recall"] >= floor, (label, per[label])
