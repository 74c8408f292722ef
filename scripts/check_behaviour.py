"""Check that a change kept behaviour: the default model's scores and the README's first output.

Writes, or compares against, a fingerprint of:
- every comment's theme, sentiment and safeguarding-flag result on ``data/corpus.csv`` and the
  QDC file (``../shared/data/qdc_v6_dev.csv``), with the scores at full precision;
- the evaluation figures on both files;
- the cross-validated figures and the trained thresholds on the first 1,500 rows of the corpus
  (the training path: settings, folds, fitting);
- the sha256 of the file the README's first command writes, and of the same with ``--explain``
  and with ``--routes``.

    python scripts/check_behaviour.py write /tmp/before.json     # before the change
    python scripts/check_behaviour.py compare /tmp/before.json   # after: prints the differences

It exits with 1 when anything differs by more than ``--tolerance`` (default 1e-9).
"""

import argparse
import dataclasses
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import feedback_nlp

ROOT = Path(__file__).resolve().parent.parent
FILES = {"corpus": ROOT / "data" / "corpus.csv", "qdc": ROOT.parent / "shared" / "data" / "qdc_v6_dev.csv"}


def fingerprint() -> dict:
    """What the default model does to both labelled files and the README's example."""
    tagger = feedback_nlp.load()
    found = {}
    for name, path in FILES.items():
        corpus = feedback_nlp.read_corpus(path)
        tags = tagger.tag_many(list(corpus["text"]), list(corpus["question"]))
        found[name] = {
            "figures": dataclasses.asdict(tagger.evaluate(corpus)),
            "theme_scores": [list(t.theme_scores.values()) for t in tags],
            "sentiment_scores": [list(t.sentiment_scores.values()) for t in tags],
            "labels": [[t.themes, t.sentiment, t.flags, t.review_reasons] for t in tags],
        }
    sample = feedback_nlp.read_corpus(FILES["corpus"]).head(1500)
    found["cross_validated"] = dataclasses.asdict(
        feedback_nlp.cross_validate(sample, feedback_nlp.TrainingConfig(cv_folds=2))
    )
    found["trained_thresholds"] = feedback_nlp.train(sample, feedback_nlp.TrainingConfig(cv_folds=0)).model.thresholds_.tolist()
    outputs = {
        "readme_output_sha256": [],
        "explained_output_sha256": ["--explain"],
        "routed_output_sha256": ["--routes", "data/routing.example.toml"],
    }
    for name, extra in outputs.items():
        with tempfile.TemporaryDirectory() as out:
            written = Path(out) / "tagged.csv"
            # Run as `python -m` in the tree this script is in, whichever copy is installed.
            command = [sys.executable, "-m", "feedback_nlp", "tag", "data/examples/comments.csv", "-o", str(written), *extra]
            subprocess.run(command, cwd=ROOT, check=True)
            found[name] = hashlib.sha256(written.read_bytes()).hexdigest()
    return json.loads(json.dumps(found))  # tuples as lists, as read back


def differences(before, after, where="", tolerance=1e-9):
    """Each path at which ``after`` differs from ``before`` (numbers by more than ``tolerance``)."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in before.keys() | after.keys():
            yield from differences(before.get(key), after.get(key), f"{where}/{key}", tolerance)
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for i, (b, a) in enumerate(zip(before, after)):
            yield from differences(b, a, f"{where}[{i}]", tolerance)
    elif isinstance(before, float) and isinstance(after, float):
        if abs(before - after) > tolerance:
            yield f"{where}: {before!r} -> {after!r}"
    elif before != after:
        yield f"{where}: {before!r} -> {after!r}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["write", "compare"])
    parser.add_argument("path", type=Path)
    parser.add_argument("--tolerance", type=float, default=1e-9)
    args = parser.parse_args()
    now = fingerprint()
    if args.action == "write":
        args.path.write_text(json.dumps(now))
        print(f"wrote {args.path}")
        return 0
    found = list(differences(json.loads(args.path.read_text()), now, tolerance=args.tolerance))
    print("\n".join(found[:50]) or f"no difference above {args.tolerance}")
    print(f"{len(found)} difference(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
