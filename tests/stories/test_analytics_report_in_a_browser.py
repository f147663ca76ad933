"""A manager opens the mailed HTML report: a real `waba analytics report --html` process writes it,
headless Chromium renders it offline, and the screenshot shows the charts (not a blank page)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support import analytics as week
from waba_cli.db.engine import Database

pytestmark = [
    pytest.mark.slow,
    pytest.mark.backend_neutral,
]  # what is checked is the HTML in a browser, not the database

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BAR_BLUE = (0x2F, 0x6F, 0xDF)  # the "sent" bars


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")
def test_the_html_report_renders_its_charts_in_chromium(account: Any, db: Database, tmp_path: Path) -> None:
    from PIL import Image

    week.build(db)
    week.webhook_statuses(db)
    page = tmp_path / "report.html"
    report = subprocess.run(
        [sys.executable, "-m", "waba_cli", "analytics", "report", "--since", "2026-03-07", "--until", "2026-03-10",
         "--html", str(page)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert report.returncode == 0, report.stderr
    shot = tmp_path / "shot.png"
    assert CHROMIUM is not None
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1000,1400", f"--screenshot={shot}",
         page.as_uri()],
        capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert shot.exists(), "chromium wrote no screenshot"
    image = Image.open(shot).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 50, "the page is blank"
    near_blue = sum(
        count for count, (r, g, b) in colours if abs(r - BAR_BLUE[0]) + abs(g - BAR_BLUE[1]) + abs(b - BAR_BLUE[2]) < 40
    )
    assert near_blue > 200, "the bar chart did not render"
