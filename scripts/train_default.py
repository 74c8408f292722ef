"""Rebuild the shipped default model in models/default from the project's corpus and the QDC data.

Run from the repository root: `python scripts/train_default.py`. The real QDC comments are read
from ../shared/data (they are never copied into the repository); the model card records the
sha256 of both files, and tests/test_default_model.py fails when data/ has changed since.
"""

import sys

from feedback_nlp.cli import main

TRAINING_FILES = ["data/corpus.csv", "../shared/data/qdc_v6_dev.csv"]
# Comments labelled for safeguarding only, that the safeguarding head also learns from: the
# examples written for it, and the evaluation sets that rounds of rules were tuned on (a set
# written after the last round is left out, so that it still measures it).
SAFEGUARDING_FILES = ["data/flags/safeguarding_train.csv"] + [
    f"data/eval/safeguarding_eval_v{n}.csv" for n in range(1, 10)
]

if __name__ == "__main__":
    args = [arg for path in TRAINING_FILES for arg in ("--data", path)]
    # Rebuilding the shipped model is this script's purpose: replace the folder.
    args += [arg for path in SAFEGUARDING_FILES for arg in ("--safeguarding-data", path)]
    sys.exit(main(["train", *args, "--out", "models/default", "--overwrite", *sys.argv[1:]]))
