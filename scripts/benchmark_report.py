"""Time `feedback-nlp report` on a large tagged file: wall time, peak memory, page size, render time.

    python scripts/benchmark_report.py --rows 1000000

Makes a reproducible tagged CSV (corpus comments with their labels as tags, dates over two years,
eight sites, five services), then runs `feedback-nlp report --by site service --date-column date
--tables` on it as a separate process, measuring wall time and the peak memory of its process
tree (PSS, sampled once a second). Then prints the page's size and, where Chromium is installed,
how long headless Chromium takes to load and screenshot it, less the time for an empty page.
Needs `pip install -e '.[bench]'` (psutil).
"""

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from feedback_nlp import read_corpus
from benchmarking import run_measured, synthetic_tagged
from feedback_nlp.tables import TableWriter


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--corpus", default="data/corpus.csv", help="comments and labels to draw from")
    parser.add_argument("--renders", type=int, default=3, help="browser loads to time (0: none)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        source, page, tables = Path(tmp) / "tagged.csv", Path(tmp) / "report.html", Path(tmp) / "tables.xlsx"
        writer = TableWriter(source)
        writer.write(synthetic_tagged(args.rows, read_corpus(args.corpus), seed=args.seed))
        writer.commit()
        print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
              f"{args.rows:,} tagged rows, {source.stat().st_size / 1e6:.0f} MB CSV")

        command = [sys.executable, "-m", "feedback_nlp.cli", "report", str(source), "-o", str(page),
                   "--by", "site", "service", "--date-column", "date", "--tables", str(tables), "--quiet"]
        seconds, peak = run_measured(command)
        print(f"feedback-nlp report: {seconds:.1f} s wall, {args.rows / seconds:,.0f} rows/s, "
              f"peak memory {peak / 2**20:,.0f} MiB")
        print(f"page: {page.stat().st_size / 1e3:,.0f} kB; tables: {tables.stat().st_size / 1e3:,.0f} kB")

        browser = shutil.which("chromium") or shutil.which("google-chrome")
        if browser and args.renders:
            empty = Path(tmp) / "empty.html"
            empty.write_text("<!DOCTYPE html><title>empty</title>")
            report_s = min(_load_seconds(browser, page, tmp) for _ in range(args.renders))
            empty_s = min(_load_seconds(browser, empty, tmp) for _ in range(args.renders))
            print(f"headless Chromium, load and screenshot (best of {args.renders}): page {report_s:.2f} s, "
                  f"empty page {empty_s:.2f} s, so about {report_s - empty_s:.2f} s for the report")
    return 0


def _load_seconds(browser: str, page: Path, tmp: str) -> float:
    start = time.perf_counter()
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--user-data-dir={tmp}/profile", "--window-size=1000,1400",
                    f"--screenshot={tmp}/shot.png", page.as_uri()], check=True, capture_output=True)
    return time.perf_counter() - start


if __name__ == "__main__":
    sys.exit(main())
