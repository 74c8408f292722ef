"""Rebuild feedback_nlp/common_words.txt, the words the name rules never take for a name unmarked.

    python scripts/build_common_words.py

Run after data/corpus.csv changes: tests/test_flags.py fails while the file is out of date.
"""

import argparse
import sys

from feedback_nlp import read_corpus
from feedback_nlp.flags import COMMON_WORDS_PATH, common_words


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="data/corpus.csv")
    args = parser.parse_args(argv)
    words = common_words(read_corpus(args.corpus))
    COMMON_WORDS_PATH.write_text("\n".join(words) + "\n", encoding="utf-8")
    print(f"{len(words):,} words written to {COMMON_WORDS_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
