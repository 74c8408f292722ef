"""Train a model on labelled comments: the same as `feedback-nlp train` (run with --help)."""

import sys

from feedback_nlp.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
