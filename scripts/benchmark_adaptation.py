"""How much a few hundred reviewed comments teach a model trained on another trust's comments.

    python scripts/benchmark_adaptation.py --data ../shared/data/qdc_v6_dev.csv

For each trust of the file as the target: a base model trained on the other trust; the target's
comments split (seeded) into a pool and a test part; K = 0, 50, 100, 200, 400 comments of the
pool picked by `review` or at random, labelled from the file (a perfect reviewer) and learned
as `adapt` learns them; and the ceiling, the whole pool. Prints theme macro and micro F1 and
sentiment macro F1 on the test part, means over the seeds, as Markdown tables.
"""

import argparse
import os
import platform
import sys
import time
import warnings
from datetime import date

from feedback_nlp import EmptyTextWarning, read_corpus
from feedback_nlp.adapting import DEFAULT_THRESHOLDS, DEFAULT_WEIGHT, THRESHOLDS
from benchmarking import adaptation, format_adaptation


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="labelled file with a column naming each comment's trust")
    parser.add_argument("--group-column", default="Trust", help="the column of trusts (default: Trust)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 50, 100, 200, 400])
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0 .. N-1 (default 3)")
    parser.add_argument("--test-share", type=float, default=0.25, help="the target's share held out (0.25)")
    parser.add_argument("--weight", type=int, default=DEFAULT_WEIGHT,
                        help=f"how many times a reviewed comment counts (default {DEFAULT_WEIGHT}, adapt's)")
    parser.add_argument("--thresholds", choices=THRESHOLDS, default=DEFAULT_THRESHOLDS,
                        help=f"rows that tune the thresholds (default {DEFAULT_THRESHOLDS}, adapt's)")
    parser.add_argument("--no-ceiling", action="store_true",
                        help="skip the whole-pool ceiling (a quicker look at a change of choosing)")
    args = parser.parse_args(argv)

    warnings.simplefilter("ignore", EmptyTextWarning)
    corpus = read_corpus(args.data, keep=[args.group_column])
    start = time.perf_counter()
    results = adaptation(
        corpus, corpus[args.group_column], sizes=args.sizes, seeds=range(args.seeds),
        test_share=args.test_share, weight=args.weight, thresholds=args.thresholds,
        ceiling=not args.no_ceiling, progress=True,
    )
    print(f"Adaptation on {args.data}, {args.seeds} seeds, test share {args.test_share}, reviewed "
          f"comments weighted {args.weight}, thresholds tuned on {args.thresholds} rows; {date.today()}, {platform.machine()} with {os.cpu_count()} "
          f"cores, {time.perf_counter() - start:.0f} s")
    print(format_adaptation(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
