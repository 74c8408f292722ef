"""Time batch tagging end to end (CSV in, CSV out) against the NHS reference classifier.

    python scripts/benchmark_speed.py --rows 1000000

Generates a reproducible file of realistic comments, tags it with `feedback-nlp tag` and prints
rows a second, wall time, peak memory of the whole process tree (PSS), and model load time.
In the same run it times the NHS reference pipeline (TF-IDF + RBF SVC per label, trained on the
project's corpus) predicting a 20,000-row slice of the same file, and prints the ratio.
Needs `pip install -e '.[bench]'` (psutil).
"""

import argparse
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd

from feedback_nlp import load, read_corpus
from benchmarking import NHSReference, run_measured, synthetic_survey
from feedback_nlp.themes import THEME_IDS


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--model", help="model folder (default: the shipped default model)")
    parser.add_argument("--corpus", default="data/corpus.csv", help="sentences for the comments")
    parser.add_argument("--reference-rows", type=int, default=20_000)
    parser.add_argument("--chunk-rows", type=int, help="passed to feedback-nlp tag")
    args = parser.parse_args(argv)

    corpus = read_corpus(args.corpus)
    with tempfile.TemporaryDirectory() as tmp:
        source, output = Path(tmp) / "survey.csv", Path(tmp) / "tagged.csv"
        survey = synthetic_survey(args.rows, corpus, seed=args.seed)
        survey.to_csv(source, index=False)
        print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
              f"{args.rows:,} comments ({survey['comment'].nunique() / args.rows:.0%} distinct), "
              f"{source.stat().st_size / 1e6:.0f} MB CSV")

        start = time.perf_counter()
        load(args.model)
        print(f"model load: {time.perf_counter() - start:.2f} s")

        command = [sys.executable, "-m", "feedback_nlp.cli", "tag", str(source), "-o", str(output),
                   "--question-column", "question", "--jobs", str(args.jobs), "--quiet"]
        if args.model:
            command += ["--model", args.model]
        if args.chunk_rows:
            command += ["--chunk-rows", str(args.chunk_rows)]
        seconds, peak = run_measured(command)
        ours = args.rows / seconds
        print(f"feedback-nlp tag --jobs {args.jobs}: {seconds:.1f} s wall, {ours:,.0f} rows/s, "
              f"peak memory {peak / 2**20:,.0f} MiB (PSS of the process tree)")
        written = sum(len(c) for c in pd.read_csv(output, usecols=["respondent_id"], chunksize=200_000))
        if written != args.rows:
            raise SystemExit(f"expected {args.rows:,} rows in the output, found {written:,}")

        reference = NHSReference()
        usable = corpus[corpus["text"].str.strip() != ""]
        reference.fit(usable["text"].to_numpy(object), None, usable[list(THEME_IDS)].to_numpy(),
                      usable["sentiment"].to_numpy(object))
        sample = survey["comment"].head(args.reference_rows).to_numpy(object)
        start = time.perf_counter()
        reference.predict(sample, None)
        theirs = len(sample) / (time.perf_counter() - start)
        print(f"NHS reference (TF-IDF + RBF SVC) predicting {len(sample):,} rows in memory: "
              f"{theirs:,.0f} rows/s")
        print(f"ratio: feedback-nlp end to end is {ours / theirs:.1f}x the reference's prediction speed")
    return 0


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    sys.exit(main())
