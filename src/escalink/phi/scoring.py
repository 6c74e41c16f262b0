"""Quality figures of predictions against a gold corpus, as defined in the corpus guidelines.

- leak rate: share of gold PHI characters that no predicted span covers
- entity recall: share of gold spans that some predicted span overlaps (any label)
- precision: share of predicted spans that overlap some gold span
- record recall: share of records with PHI in which anything was predicted
- false block rate: share of records without PHI in which anything was predicted
A gold record may list `ignore` spans: a prediction touching only those (and no gold span) is
left out of every figure.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Span = Mapping[str, Any]


def _overlap(a: Span, b: Span) -> bool:
    return int(a["start"]) < int(b["end"]) and int(b["start"]) < int(a["end"])


@dataclass
class LabelTally:
    """Counts for one gold label."""

    spans: int = 0
    hit: int = 0
    chars: int = 0
    leaked: int = 0


@dataclass
class Tally:
    """Running counts over a corpus; `report()` turns them into the figures."""

    records: int = 0
    phi_chars: int = 0
    leaked: int = 0
    gold_spans: int = 0
    hit_spans: int = 0
    pred_spans: int = 0
    good_pred: int = 0
    phi_records: int = 0
    flagged_phi: int = 0
    clean_records: int = 0
    flagged_clean: int = 0
    labels: dict[str, LabelTally] = field(default_factory=dict)

    def add(self, gold: Span, predicted: Iterable[Span]) -> None:
        spans = list(gold.get("spans", []))
        ignore = list(gold.get("ignore", []))
        preds = [p for p in predicted
                 if any(_overlap(p, g) for g in spans) or not any(_overlap(p, i) for i in ignore)]
        self.records += 1
        covered: set[int] = set()
        for p in preds:
            covered.update(range(int(p["start"]), int(p["end"])))
        if spans:
            self.phi_records += 1
            self.flagged_phi += bool(preds)
        else:
            self.clean_records += 1
            self.flagged_clean += bool(preds)
        for g in spans:
            chars = set(range(int(g["start"]), int(g["end"])))
            missed = len(chars - covered)
            hit = any(_overlap(g, p) for p in preds)
            row = self.labels.setdefault(str(g["label"]), LabelTally())
            row.spans += 1
            row.hit += hit
            row.chars += len(chars)
            row.leaked += missed
            self.gold_spans += 1
            self.hit_spans += hit
            self.phi_chars += len(chars)
            self.leaked += missed
        self.pred_spans += len(preds)
        self.good_pred += sum(any(_overlap(p, g) for g in spans) for p in preds)

    def report(self) -> dict[str, Any]:
        def ratio(a: int, b: int) -> float:
            return a / b if b else 0.0

        return {
            "records": self.records,
            "leak_rate": ratio(self.leaked, self.phi_chars),
            "entity_recall": ratio(self.hit_spans, self.gold_spans),
            "precision": ratio(self.good_pred, self.pred_spans),
            "record_recall": ratio(self.flagged_phi, self.phi_records),
            "false_block_rate": ratio(self.flagged_clean, self.clean_records),
            "per_label": {name: {"spans": t.spans, "recall": ratio(t.hit, t.spans),
                                 "leak_rate": ratio(t.leaked, t.chars)}
                          for name, t in sorted(self.labels.items())},
        }


def evaluate(gold: Mapping[str, Span], predicted: Mapping[str, Iterable[Span]]) -> dict[str, Any]:
    """Figures for gold records by id and predicted spans by id (a missing id predicts nothing)."""
    tally = Tally()
    for rid, record in gold.items():
        tally.add(record, predicted.get(rid, []))
    return tally.report()


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def format_report(report: Mapping[str, Any]) -> str:
    """The text summary: one line of totals, then one line per gold label."""
    r = report
    lines = [f"records {r['records']}  leak_rate {r['leak_rate']:.4f}  entity_recall {r['entity_recall']:.4f}  "
             f"precision {r['precision']:.4f}  record_recall {r['record_recall']:.4f}  "
             f"false_block_rate {r['false_block_rate']:.4f}"]
    for label, v in r["per_label"].items():
        lines.append(f"  {label:9s} spans {v['spans']:4d}  recall {v['recall']:.4f}  leak_rate {v['leak_rate']:.4f}")
    return "\n".join(lines)
