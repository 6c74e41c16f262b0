"""scan/redact, configuration, registry, scoring."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escalink.phi import LABELS, Detector, Finding, load_config, redact, scan
from escalink.phi.config import PhiConfig, RecognizerConfig
from escalink.phi.registry import registered
from escalink.phi.scoring import evaluate

TEXT = ("Member Rosalind Achterberg (DOB 02/17/1951) called from (602) 555-0148 about her metformin 500 mg; "
        "mail r.achterberg@example.com, IP 198.51.100.9.")


def test_scan_finds_each_kind_and_redact_replaces_them() -> None:
    findings = scan(TEXT, "description")
    assert {f.label for f in findings} >= {"NAME", "DATE", "PHONE", "CLINICAL", "EMAIL", "IP"}
    for f in findings:
        assert isinstance(f, Finding) and f.label in LABELS and 0 < f.score <= 1 and f.recognizer
    red = redact(TEXT, findings)
    for secret in ("Achterberg", "02/17/1951", "555-0148", "metformin", "r.achterberg", "198.51.100.9"):
        assert secret not in red
    assert red.startswith("Member [NAME] (DOB [DATE]) called from [PHONE]")


def test_redact_keeps_text_between_findings_and_merges_overlaps() -> None:
    text = "abc DEF ghi"
    fs = [Finding("NAME", 4, 6, 0.9, "x"), Finding("ID", 5, 7, 0.5, "y")]
    assert redact(text, fs) == "abc [NAME] ghi"
    assert redact(text, []) == text


def test_findings_are_sorted_and_disjoint() -> None:
    findings = scan(TEXT)
    for a, b in zip(findings, findings[1:], strict=False):
        assert a.end <= b.start


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_scan_never_fails_and_spans_are_in_range(text: str) -> None:
    for f in scan(text, "comment"):
        assert 0 <= f.start < f.end <= len(text)


def test_every_label_has_a_recognizer() -> None:
    covered = {label for cls in registered().values() for label in cls.labels}
    assert covered == set(LABELS)


def test_disabled_recognizer_and_threshold() -> None:
    text = "Call Rosalind Achterberg at (602) 555-0148"
    no_phone = Detector(PhiConfig(recognizers={"phone": RecognizerConfig(enabled=False)}))
    assert {f.label for f in no_phone.scan(text)} == {"NAME"}
    strict = Detector(PhiConfig(threshold=0.99))
    assert strict.scan(text) == []


def test_allow_list_masks_staff_names() -> None:
    text = "Thanks Henrik Lindqvist, retested on staging"
    assert Detector(load_config()).scan(text)
    cfg = load_config().model_copy(update={"allow_list": ["Henrik Lindqvist"]})
    assert Detector(cfg).scan(text) == []


def test_unknown_recognizer_in_config_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown recognizers"):
        Detector(PhiConfig(recognizers={"nope": RecognizerConfig()}))


def test_config_file(tmp_path: Path) -> None:
    path = tmp_path / "phi.yaml"
    path.write_text("threshold: 0.7\nallow_list: [Acme]\nrecognizers:\n  url: {enabled: false}\n", encoding="utf-8")
    cfg = load_config(path)
    assert cfg.threshold == 0.7 and cfg.allow_list == ["Acme"] and not cfg.recognizer("url").enabled
    assert load_config().recognizer("names").threshold == 0.6


def test_scoring_definitions() -> None:
    gold: dict[str, dict[str, Any]] = {
        "a": {"spans": [{"start": 0, "end": 4, "label": "NAME"}, {"start": 10, "end": 14, "label": "DATE"}]},
        "b": {"spans": []},
        "c": {"spans": [], "ignore": [{"start": 0, "end": 5, "label": "GPE"}]},
    }
    pred = {"a": [{"start": 0, "end": 2, "label": "NAME"}, {"start": 20, "end": 22, "label": "ID"}],
            "b": [{"start": 0, "end": 1, "label": "ID"}],
            "c": [{"start": 1, "end": 3, "label": "ADDRESS"}]}
    r = evaluate(gold, pred)
    assert r["leak_rate"] == pytest.approx(6 / 8)
    assert r["entity_recall"] == 0.5
    assert r["precision"] == pytest.approx(1 / 3)  # c's flag touches only an ignore span: not counted
    assert r["record_recall"] == 1.0
    assert r["false_block_rate"] == 0.5
    assert r["per_label"]["NAME"] == {"spans": 1, "recall": 1.0, "leak_rate": 0.5}
