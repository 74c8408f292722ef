"""Score a model against labelled comments: the same as `feedback-nlp evaluate` (run with --help)."""

import sys

from feedback_nlp.cli import main

if __name__ == "__main__":
    sys.exit(main(["evaluate", *sys.argv[1:]]))
