"""The report page in headless Chromium: it renders, prints on A4 and asks the network for nothing.

Skipped, saying why, where Chromium or Pillow is missing (``.ci/run`` installs Chromium).
"""

import json
import re
import shutil
import subprocess

import pandas as pd
import pytest

import feedback_nlp

BROWSER = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
pytestmark = pytest.mark.skipif(
    BROWSER is None, reason="Chromium is not installed (apt-get install chromium; .ci/run does)"
)


def _chromium(tmp_path, page, *action):
    """Open ``page`` in headless Chromium doing ``action``; return the URLs the page asked for.

    The browser's own traffic (update checks) has no initiator; a page's requests have its
    origin ("null" for a file) as initiator. Names resolve nowhere, so nothing leaves the machine.
    """
    log = tmp_path / f"{page.stem}.netlog.json"
    subprocess.run(
        [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--hide-scrollbars",
         "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={tmp_path / 'profile'}",
         f"--log-net-log={log}", *action, page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    events = json.loads(log.read_text())
    start = events["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    starts = [e.get("params", {}) for e in events["events"] if e["type"] == start]
    return [p["url"] for p in starts if "url" in p and p.get("initiator") != "not an origin"]


@pytest.fixture
def page(tagged_frame, tmp_path):
    actions = tmp_path / "actions.csv"
    pd.DataFrame({"theme": ["access"], "you_said": ["Parking was full"], "we_did": ["A second car park"],
                  "date": ["2025-11-01"]}).to_csv(actions, index=False)
    path = tmp_path / "report.html"
    feedback_nlp.report(tagged_frame(600), path, by=["site"], date_column="date", actions=actions)
    return path


def test_the_page_renders_with_text_and_colour(page, tmp_path):
    image_module = pytest.importorskip("PIL.Image", reason="Pillow reads the screenshot (the test extra)")
    shot = tmp_path / "shot.png"
    _chromium(tmp_path, page, "--window-size=1000,1400", f"--screenshot={shot}")
    image = image_module.open(shot).convert("RGB")
    assert image.size == (1000, 1400)
    data = image.resize((250, 350)).tobytes()
    pixels = [tuple(data[i:i + 3]) for i in range(0, len(data), 3)]
    ink = sum(1 for r, g, b in pixels if r + g + b < 600)
    coloured = sum(1 for r, g, b in pixels if max(r, g, b) - min(r, g, b) > 60)
    assert ink > len(pixels) * 0.02  # text and charts, not a blank page
    assert coloured > 0  # the palette's blue and vermilion (the headline cards)


def test_the_page_asks_for_nothing_outside_itself(page, tmp_path):
    assert _chromium(tmp_path, page, f"--screenshot={tmp_path / 'shot.png'}") == []


def test_the_request_check_sees_a_page_that_does_ask(tmp_path):
    probe = tmp_path / "probe.html"
    probe.write_text('<p>probe</p><img src="https://example.com/probe.png">')
    assert _chromium(tmp_path, probe, f"--screenshot={tmp_path / 'probe.png'}") == ["https://example.com/probe.png"]


def test_the_page_prints_on_a4(page, tmp_path):
    pdf = tmp_path / "report.pdf"
    _chromium(tmp_path, page, "--no-pdf-header-footer", f"--print-to-pdf={pdf}")
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf.read_bytes())
    assert boxes
    assert all(abs(float(w) - 595.3) < 1 and abs(float(h) - 841.9) < 1 for w, h in boxes)
