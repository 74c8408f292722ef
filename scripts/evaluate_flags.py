"""Measure the safeguarding and personal-data flag detectors and print the figures.

    python scripts/evaluate_flags.py                 # labelled sets: dev, held-out and whole
    python scripts/evaluate_flags.py --corpus data/corpus.csv --qdc ../shared/data/qdc_v6_dev.csv

The QDC file is real NHS data: it is read from its path and only figures are printed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from feedback_nlp.flags import score_detect_flags, score_flags
from feedback_nlp.themes import QDC_PERSONAL_DATA_COLUMN, QDC_SAFEGUARDING_COLUMN, QDC_TEXT_COLUMN

REPO = Path(__file__).resolve().parents[1]


def _print_flag_scores(title: str, scores: dict) -> None:
    for flag, s in scores.items():
        print(
            f"[{title}] {flag}: recall {s['recall']:.3f}  precision {s['precision']:.3f}  "
            f"(labelled {s['labelled']}, flagged {s['flagged']})"
        )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--safeguarding", default=REPO / "data" / "flags" / "safeguarding.csv")
    parser.add_argument("--personal-data", default=REPO / "data" / "flags" / "personal_data.csv")
    parser.add_argument("--phone-method", choices=["phonenumbers", "regex"], default="phonenumbers")
    parser.add_argument("--corpus", help="a project corpus CSV with a 'flags' column (';'-joined)")
    parser.add_argument("--qdc", help="a QDC v6 CSV (FFT answer, Safeguarding concerns?, ...)")
    args = parser.parse_args(argv)
    for part in ("dev", "held_out", "all"):
        print(score_flags(args.safeguarding, args.personal_data, part=part, phone_method=args.phone_method).format())
    if args.corpus:
        corpus = pd.read_csv(args.corpus, dtype=str, keep_default_na=False)
        flags = corpus["flags"].str.split(";")
        truth = {f: [f in row for row in flags] for f in ("safeguarding", "personal_data")}
        _print_flag_scores("corpus", score_detect_flags(corpus["text"], truth))
    if args.qdc:
        qdc = pd.read_csv(args.qdc)
        texts = [t if isinstance(t, str) else None for t in qdc[QDC_TEXT_COLUMN]]
        truth = {
            "safeguarding": qdc[QDC_SAFEGUARDING_COLUMN].fillna(0).astype(int) == 1,
            "personal_data": qdc[QDC_PERSONAL_DATA_COLUMN].notna()
            & (qdc[QDC_PERSONAL_DATA_COLUMN].astype(str).str.strip() != ""),
        }
        _print_flag_scores("qdc", score_detect_flags(texts, truth))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
