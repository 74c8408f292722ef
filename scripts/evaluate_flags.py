"""Measure the safeguarding and personal-data flags and print the figures.

    python scripts/evaluate_flags.py                 # labelled sets: dev, held-out and whole
    python scripts/evaluate_flags.py --corpus data/corpus.csv --qdc ../shared/data/qdc_v6_dev.csv

The labelled sets in data/flags are scored with the rules alone (dev, held-out and whole) and,
for safeguarding, with the rules and the model's safeguarding head together, as tagging raises
it. The QDC file is real NHS data: it is read from its path and only figures are printed.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import pandas as pd

from feedback_nlp import EmptyTextWarning, load, read_corpus
from feedback_nlp.flags import detect_flags
from feedback_nlp.metrics import score_flagged, score_flags

REPO = Path(__file__).resolve().parents[1]


def _print(title: str, scores: dict) -> None:
    for flag, s in scores.items():
        print(
            f"[{title}] {flag}: recall {s['recall']:.3f}  precision {s['precision']:.3f}  "
            f"(labelled {s['labelled']}, flagged {s['flagged']})"
        )


def _score_both(title: str, tagger, texts, questions, truth: dict) -> None:
    _print(f"{title}, rules", score_flagged(detect_flags(texts), truth))
    tags = tagger.tag_many(texts, questions)
    _print(f"{title}, rules + model", score_flagged([t.flags for t in tags], truth))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--safeguarding", default=REPO / "data" / "flags" / "safeguarding.csv")
    parser.add_argument("--personal-data", default=REPO / "data" / "flags" / "personal_data.csv")
    parser.add_argument("--phone-method", choices=["phonenumbers", "regex"], default="phonenumbers")
    parser.add_argument("--model", help="model folder (default: the shipped default model)")
    parser.add_argument("--corpus", help="a labelled file (project or QDC format) to score the flags on")
    parser.add_argument("--qdc", help="another labelled file, e.g. the QDC v6 data")
    args = parser.parse_args(argv)
    for part in ("dev", "held_out", "all"):
        print(score_flags(args.safeguarding, args.personal_data, part=part, phone_method=args.phone_method).format())

    tagger = load(args.model)
    labelled = pd.read_csv(args.safeguarding)
    truth = {"safeguarding": labelled["safeguarding"] == 1}
    _score_both("safeguarding set", tagger, labelled["text"].tolist(), None, truth)
    warnings.simplefilter("ignore", EmptyTextWarning)
    for path in filter(None, (args.corpus, args.qdc)):
        table = read_corpus(path)
        flags = table["flags"].str.split(";")
        truth = {f: [f in row for row in flags] for f in ("safeguarding", "personal_data")}
        _score_both(Path(path).name, tagger, table["text"].tolist(), table["question"].tolist(), truth)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
