"""The ``feedback-nlp`` command: tag, report, train, evaluate, review and adapt. Each command calls
one library function.

Exit codes: 0 done; 2 a problem with the input, the output, a model folder or the arguments,
said in one line naming the file; 130 stopped by Ctrl-C, 143 by SIGTERM (nothing left behind).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import warnings

from .about import VersionAction
from .adapting import DEFAULT_THRESHOLDS, DEFAULT_WEIGHT, THRESHOLDS, adapt
from .batch import CHUNK_ROWS, tag_file
from .corpus import FORMATS, read_corpus
from .decide import REVIEW_MARGIN
from .embeddings import ENCODERS
from .exceptions import FeedbackNLPError
from .model import CommentModel
from .reporting import DEFAULT_TITLE, report
from .reporting.figures import PERIODS
from .reviewing import review
from .routing import load_routes
from .tables import DELIMITERS, ENCODINGS
from .tagging import load
from .training import TrainingConfig, train_files

# The settings' defaults live with the estimator and the run settings; the options repeat none.
MODEL_DEFAULTS = CommentModel().get_params()
RUN_DEFAULTS = TrainingConfig()


def _tag(args) -> int:
    router = load_routes(args.routes) if args.routes else None
    tagger = load(args.model, review_margin=args.review_margin)
    summary = tag_file(
        args.input,
        args.output,
        tagger,
        column=args.column,
        question_column=_column_choice(args.question_column),
        rating_column=_column_choice(args.rating_column),
        jobs=args.jobs,
        encoding=args.encoding,
        chunk_rows=args.chunk_rows,
        explain=args.explain,
        router=router,
        progress=not args.quiet and sys.stderr.isatty(),
        sheet=args.sheet,
        raw_formulas=args.raw_formulas,
    )
    for said in summary.found:  # an unclear choice is said even with --quiet
        if not args.quiet or said.startswith("several"):
            print(f"feedback-nlp: {said}", file=sys.stderr)
    if not args.quiet:
        read_as = [f"sheet {summary.sheet!r}"] if summary.sheet else []
        if summary.encoding == "cp1252":
            read_as.append("read as Windows-1252")
        if summary.delimiter not in (None, ","):
            read_as.append(f"{DELIMITERS[summary.delimiter]}-separated")
        how = f" ({', '.join(read_as)})" if read_as else ""
        print(
            f"tagged {summary.rows} rows of column {summary.column!r}{how} in "
            f"{summary.seconds:.1f}s -> {args.output}",
            file=sys.stderr,
        )
    return 0


def _column_choice(value: str) -> str | None:
    """``--question-column``/``--rating-column``: "auto" finds it, "none" uses none."""
    return None if value == "none" else value


def _report(args) -> int:
    figures = report(
        args.input, args.output, by=args.by, date_column=args.date_column, period=args.period,
        actions=args.actions, title=args.title, tables=args.tables, column=args.column, sheet=args.sheet,
    )
    if not args.quiet:
        written = args.output + (f" and {args.tables}" if args.tables else "")
        print(f"reported on {figures.rows} comments ({figures.latest}) -> {written}", file=sys.stderr)
    return 0


def _train(args) -> int:
    tagger = train_files(
        args.data,
        args.out,
        format=args.format,
        config=TrainingConfig(cv_folds=args.cv_folds),
        model=CommentModel(random_state=args.seed, embeddings=args.embeddings),
        ner=args.ner,
        progress=True,
        overwrite=args.overwrite,
        safeguarding_data=args.safeguarding_data,
    )
    cv = tagger.card.cv_metrics
    if cv:
        print(
            f"cross-validated ({cv['folds']} folds): theme macro F1 {cv['theme_macro_f1']:.3f}, "
            f"micro F1 {cv['theme_micro_f1']:.3f}; sentiment accuracy "
            f"{cv['sentiment_accuracy']:.3f}, macro F1 {cv['sentiment_macro_f1']:.3f}"
        )
    print(f"model saved in {args.out} (final fit {tagger.card.fit_seconds}s)")
    return 0


def _evaluate(args) -> int:
    tagger = load(args.model, review_margin=args.review_margin)
    if args.by:
        return _evaluate_by(args, tagger)
    scores = tagger.evaluate(read_corpus(args.data, format=args.format))
    print(json.dumps(scores.to_dict(), indent=2) if args.json else scores.format())
    return 0


def _evaluate_by(args, tagger) -> int:
    groups = tagger.evaluate_by(read_corpus(args.data, format=args.format, keep=[args.by]), args.by)
    if args.json:
        print(json.dumps({group: scores.to_dict() for group, scores in groups.items()}, indent=2))
        return 0
    width = max(len(args.by), *(len(g) for g in groups)) + 2
    print(f"{args.by:<{width}}{'comments':>9}{'theme macro':>12}{'theme micro':>12}"
          f"{'sent. acc.':>11}{'sent. macro':>12}{'review':>8}")
    for group, s in groups.items():
        print(f"{group or '(blank)':<{width}}{s.rows:>9}{s.theme_macro_f1:>12.3f}{s.theme_micro_f1:>12.3f}"
              f"{s.sentiment_accuracy:>11.3f}{s.sentiment_macro_f1:>12.3f}{s.review_share:>8.0%}")
    return 0


def _review(args) -> int:
    summary = review(
        args.input, args.output, model=args.model, column=args.column,
        question_column=_column_choice(args.question_column), rating_column=_column_choice(args.rating_column),
        n=args.n, exclude=args.exclude or (), sheet=args.sheet, seed=args.seed,
    )
    for said in summary.found:
        print(f"feedback-nlp: {said}", file=sys.stderr)
    print(
        f"chose {summary.rows} of {summary.candidates} distinct new comments of column "
        f"{summary.column!r} in {summary.seconds:.1f}s -> {args.output}; correct their themes, "
        "sentiment and flags, then run feedback-nlp adapt",
        file=sys.stderr,
    )
    return 0


def _adapt(args) -> int:
    tagger = adapt(
        args.model, args.data, args.out, weight=args.weight, thresholds=args.thresholds, cv_folds=args.cv_folds,
        overwrite=args.overwrite, progress=True,
    )
    figures = tagger.card.adaptation
    rows = sum(sheet["rows"] for sheet in figures["sheets"])
    print(f"on the {rows} reviewed comments of {len(figures['sheets'])} sheet(s):")
    for name in ("before", "after"):
        f = figures[name]
        if f is None:
            continue
        how = "the base model" if name == "before" else f"adapted, cross-validated over {f['folds']} folds of the sheets"
        print(
            f"  {name:<7}theme macro F1 {f['theme_macro_f1']:.3f}, micro F1 {f['theme_micro_f1']:.3f}; "
            f"sentiment accuracy {f['sentiment_accuracy']:.3f}, macro F1 {f['sentiment_macro_f1']:.3f} ({how})"
        )
    print(f"model saved in {args.out} (final fit {tagger.card.fit_seconds}s)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``feedback-nlp`` command."""
    parser = argparse.ArgumentParser(
        prog="feedback-nlp",
        description="Tag patient feedback with the five commitment themes and sentiment.",
        epilog="Tables in and out: CSV (UTF-8 or Windows-1252; comma, semicolon or tab), Excel "
        ".xlsx and Parquet. Exit codes: 0 done; 2 a problem with an input, an output, a model "
        "folder or an argument, said in one line; 130 stopped by Ctrl-C, 143 by SIGTERM.",
    )
    parser.add_argument(
        "--version", action=VersionAction, help="print the version and the default model's id, and exit"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for add in (_add_tag, _add_report, _add_train, _add_evaluate, _add_review, _add_adapt):
        add(commands)
    return parser


# Options two commands share, written once so that their defaults and help cannot drift apart.
_REVIEW_MARGIN = dict(
    type=float, default=REVIEW_MARGIN,
    help="mark for review comments with a theme score this close to its threshold "
    f"(default {REVIEW_MARGIN})",
)
_FORMAT = dict(choices=FORMATS, default="auto", help="labelled file format (default: from header)")


def _add_tag(commands) -> None:
    """``feedback-nlp tag``."""
    tag = commands.add_parser(
        "tag", help="tag a CSV, Excel or Parquet file of comments",
        description="Tag every row of a table of comments; the output has every input row and "
        "column, in order, plus the tag columns.",
    )
    tag.add_argument("input", help="CSV, Excel (.xlsx) or Parquet file with one comment per row")
    tag.add_argument(
        "-o", "--output", required=True,
        help="output file (.csv, .xlsx or .parquet); replaced if it exists, never the input",
    )
    tag.add_argument(
        "--sheet", help="the worksheet of an .xlsx input (default: the one Excel opens on)"
    )
    tag.add_argument(
        "--raw-formulas", action="store_true",
        help="write CSV cells starting with = + - @ as they are, for a program to read (default: "
        "with a leading ' so that a spreadsheet shows them as text instead of running them)",
    )
    tag.add_argument("--column", help="the comment column (default: found by its name)")
    tag.add_argument(
        "--question-column", default="auto",
        help="column with the survey question each comment answers, which changes what a short "
        "answer means (default: found by its name or values; 'none' for none)",
    )
    tag.add_argument(
        "--rating-column", default="auto",
        help="column with the survey rating each comment explains, such as the Friends and Family "
        "Test's 1-6, for a model trained with ratings (default: found by its name; 'none' for none)",
    )
    tag.add_argument("--model", help="model folder (default: the shipped default model)")
    tag.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1,
        help="processes to tag in (default: all cores); the output is the same for any number",
    )
    tag.add_argument(
        "--encoding", choices=ENCODINGS, help="encoding of a CSV input (default: detected)"
    )
    tag.add_argument(
        "--chunk-rows", type=int, default=CHUNK_ROWS,
        help=f"rows read, tagged and written at a time; fewer use less memory (default {CHUNK_ROWS:,})",
    )
    tag.add_argument(
        "--routes", help="routing rules (TOML, see data/routing.example.toml): adds route columns"
    )
    tag.add_argument(
        "--explain", action="store_true",
        help="add the words behind each theme and each theme's own sentiment (tens of times "
        "slower)",
    )
    tag.add_argument("--review-margin", **_REVIEW_MARGIN)
    tag.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar and no summary line"
    )
    tag.set_defaults(run=_tag)


def _add_report(commands) -> None:
    """``feedback-nlp report``."""
    rep = commands.add_parser(
        "report", help="turn a tagged file into a report page for a board (you said, we did)",
        description="Write one self-contained HTML page from a file written by 'feedback-nlp tag': "
        "the headline, each theme over time on control charts, groups compared on funnel plots, "
        "representative comments (redacted, never a safeguarding one) and the actions taken.",
    )
    rep.add_argument("input", help="a file written by 'feedback-nlp tag' (CSV, .xlsx or Parquet)")
    rep.add_argument("-o", "--output", required=True, help="the HTML page to write")
    rep.add_argument(
        "--by", action="extend", nargs="+", default=[], metavar="COLUMN",
        help="compare the groups of these columns (site, service, cancer type) on funnel plots",
    )
    rep.add_argument(
        "--date-column", help="the column with each comment's date (2026-01-31 or 31/01/2026); "
        "without it the file is one period, with no charts over time",
    )
    rep.add_argument("--period", choices=sorted(PERIODS), default="month", help="default: month")
    rep.add_argument(
        "--actions", help="actions taken (CSV or .xlsx: theme, you_said, we_did, date; optional "
        "group, owner)",
    )
    rep.add_argument("--title", default=DEFAULT_TITLE, help=f"the page's title (default: {DEFAULT_TITLE!r})")
    rep.add_argument(
        "--tables", help="also write the figures as a workbook (.xlsx, a sheet each) or one CSV"
    )
    rep.add_argument("--column", help="the comment column (default: found by its name)")
    rep.add_argument("--sheet", help="the worksheet of an .xlsx input (default: the one Excel opens on)")
    rep.add_argument("-q", "--quiet", action="store_true", help="no summary line")
    rep.set_defaults(run=_report)


def _add_train(commands) -> None:
    """``feedback-nlp train``."""
    train = commands.add_parser("train", help="train a model on labelled comments")
    train.add_argument("--data", action="append", required=True, help="labelled CSV (repeatable)")
    train.add_argument("--format", **_FORMAT)
    train.add_argument("--out", required=True, help="model folder to write (a new or empty folder)")
    train.add_argument(
        "--overwrite", action="store_true", help="replace an existing model folder at --out"
    )
    train.add_argument(
        "--safeguarding-data", action="append", default=[], metavar="CSV",
        help="CSV of comments labelled for safeguarding only (text, and safeguarding or label 0/1) "
        "that the model's safeguarding head also learns from; repeat for more files",
    )
    seed = MODEL_DEFAULTS["random_state"]
    train.add_argument("--seed", type=int, default=seed, help=f"random seed (default {seed})")
    train.add_argument(
        "--cv-folds", type=int, default=RUN_DEFAULTS.cv_folds,
        help=f"folds for cross-validated figures (default {RUN_DEFAULTS.cv_folds}); 0 skips them",
    )
    train.add_argument(
        "--embeddings",
        choices=sorted(ENCODERS),
        default=MODEL_DEFAULTS["embeddings"],
        help="join a sentence encoder's embeddings to the TF-IDF features (the embeddings extra; "
        "tags about 200 times slower)",
    )
    train.add_argument(
        "--ner",
        help="a spaCy model with named entities (en_core_web_sm, installed) that the personal-data "
        "flag also reads, recorded in the model card; default: the flag's own rules only",
    )
    train.set_defaults(run=_train)


def _add_evaluate(commands) -> None:
    """``feedback-nlp evaluate``."""
    evaluate = commands.add_parser("evaluate", help="score a model against labelled comments")
    evaluate.add_argument("--data", required=True, help="labelled CSV")
    evaluate.add_argument("--format", **_FORMAT)
    evaluate.add_argument("--model", help="model folder (default: the shipped default model)")
    evaluate.add_argument("--review-margin", **_REVIEW_MARGIN)
    evaluate.add_argument("--json", action="store_true", help="print JSON instead of a table")
    evaluate.add_argument(
        "--by", metavar="COLUMN",
        help="figures for each value of this column of the labelled file (a service, site or survey)",
    )
    evaluate.set_defaults(run=_evaluate)


def _add_review(commands) -> None:
    review_ = commands.add_parser(
        "review", help="choose the comments worth a person's labels, as a sheet to correct",
        description="Choose the N comments of a table whose labels would teach the model most (unsure, "
        "likely rare themes, spread over the kinds of comment, never one twice) and write them with the "
        "model's guesses as a review sheet: a labelled file that adapt learns from once corrected.",
    )
    review_.add_argument("input", help="CSV, Excel (.xlsx) or Parquet file of comments (or a tagged file)")
    review_.add_argument("-o", "--output", required=True, help="the review sheet, .csv or .xlsx")
    review_.add_argument("--model", help="model folder (default: the shipped default model)")
    review_.add_argument("--column", help="the comment column (default: found by its name)")
    review_.add_argument("--question-column", default="auto",
                         help="the survey question column (default: found; 'none' for none)")
    review_.add_argument("--rating-column", default="auto",
                         help="the survey rating column (default: found by its name; 'none' for none)")
    review_.add_argument("-n", type=int, default=200, help="how many comments to choose (default 200)")
    review_.add_argument("--exclude", action="append", metavar="SHEET",
                         help="an earlier review sheet: none of its comments is chosen again (repeatable)")
    review_.add_argument("--sheet", help="the worksheet of an .xlsx input (default: the one Excel opens on)")
    review_.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    review_.set_defaults(run=_review)


def _add_adapt(commands) -> None:
    adapt_ = commands.add_parser(
        "adapt", help="learn corrected review sheets on top of a model",
        description="Train a model on a base model's training data and the corrected review sheets, "
        "the sheets weighted up; print figures on the reviewed comments before and after.",
    )
    adapt_.add_argument("--model", help="the base model folder (default: the shipped default model)")
    adapt_.add_argument("--data", action="append", required=True, metavar="SHEET",
                        help="a corrected review sheet, .csv or .xlsx (repeatable: every round's sheets)")
    adapt_.add_argument("--out", required=True, help="model folder to write (a new or empty folder)")
    adapt_.add_argument("--overwrite", action="store_true", help="replace an existing model folder at --out")
    adapt_.add_argument("--weight", type=int, default=DEFAULT_WEIGHT,
                        help=f"how many times a reviewed comment counts against a base one (default {DEFAULT_WEIGHT})")
    adapt_.add_argument("--thresholds", choices=THRESHOLDS, default=DEFAULT_THRESHOLDS,
                        help="tune each theme's threshold on the sheets' comments or on all "
                        f"(default {DEFAULT_THRESHOLDS})")
    adapt_.add_argument("--cv-folds", type=int, default=RUN_DEFAULTS.cv_folds,
                        help=f"folds of the sheets for the after-figures (default {RUN_DEFAULTS.cv_folds}); "
                        "0 skips them (faster)")
    adapt_.set_defaults(run=_adapt)


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that it stops and cleans up as on Ctrl-C."""


def _terminate(signum, frame):
    raise _Terminated


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (2 for bad input, as argparse does)."""
    args = build_parser().parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        with warnings.catch_warnings():
            # Show the library's data warnings once each, plainly, without source lines.
            warnings.simplefilter("default")
            warnings.showwarning = lambda message, category, *_: print(
                f"feedback-nlp: warning: {message}", file=sys.stderr
            )
            return args.run(args)
    except FeedbackNLPError as err:  # bad input; anything else is a bug, and keeps its traceback
        print(f"feedback-nlp: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # the machine's state (a file vanished, a device failed): no traceback
        where = f"{err.filename}: " if err.filename else ""
        print(f"feedback-nlp: error: {where}{err.strerror or err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:
        print("feedback-nlp: stopped; no output was written", file=sys.stderr)
        return 143 if isinstance(stop, _Terminated) else 130
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
