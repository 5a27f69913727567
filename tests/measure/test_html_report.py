"""The HTML report opened in a real browser: it loads without errors, fetches nothing, and its
charts render with real size. Skips when Chromium is absent (``.ci/run`` installs Debian's)."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess

import pytest

from perflint.measure.html_report import render_html_report
from perflint.measure.results import MEASURED, SKIPPED, Measurement, MeasurementReport, Point

# Added by the test only: the report itself carries no script. The first records errors from
# the moment the page starts; the second, at load, writes what the browser laid out.
_ERROR_RECORDER = ("<script>window.__errors = []; window.addEventListener('error', "
                   "event => window.__errors.push(String(event.message)));</script>")
_LAYOUT_PROBE = """<script>window.addEventListener('load', () => {
  const charts = [...document.querySelectorAll('svg')].map(svg => {
    const box = svg.getBoundingClientRect();
    return {width: box.width, height: box.height, marks: svg.querySelectorAll('circle, polyline').length,
            drawn: [...svg.querySelectorAll('circle')].every(mark => mark.getBoundingClientRect().width > 0)};
  });
  const probe = document.createElement('pre');
  probe.id = 'layout-probe';
  probe.textContent = JSON.stringify({charts: charts, errors: window.__errors,
                                      resources: performance.getEntriesByType('resource').map(r => r.name)});
  document.body.appendChild(probe);
});</script>"""


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("Chromium is not installed (.ci/run installs Debian's chromium package)")


def _report() -> MeasurementReport:
    def point(size, pattern, fix):
        return Point(size=size, pattern_seconds=pattern, fix_seconds=fix, speedup=pattern / fix,
                     speedup_low=0.9 * pattern / fix, speedup_high=1.1 * pattern / fix, samples=15)

    return MeasurementReport(
        machine={"cpu_model": "Test CPU", "logical_cores": 2, "memory_bytes": 2**30, "gpus": [],
                 "fingerprint": "0123456789ab"},
        measurements=[
            Measurement(code="PFL101", name="elementwise-index-loop", backend="array", library="numpy",
                        device="cpu", status=MEASURED, size_unit="elements",
                        points=(point(1_000, 7e-4, 7e-6), point(10_000, 7e-3, 3e-5), point(100_000, 7e-2, 3e-4)),
                        measured_at="2026-11-29T17:00:00+00:00"),
            Measurement(code="PFL401", name="loop-invariant-expensive-call", backend="array", library="numpy",
                        device="cpu", status=MEASURED, size_unit="rows and columns",
                        points=(point(8, 2e-4, 1e-4), point(32, 1e-3, 1e-4), point(128, 2e-2, 1e-4)),
                        measured_at="2026-11-29T17:00:00+00:00"),
            Measurement(code="PFL201", name="create-then-move", backend="torch", library="torch", device="cuda",
                        status=SKIPPED, reason="no CUDA device <escaped & safe>"),
        ],
    )


def test_report_is_self_contained():
    page = render_html_report(_report())
    assert "<script" not in page
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#)""", page), "every link stays inside the page"
    assert "http://" not in page and "https://" not in page
    assert "no CUDA device &lt;escaped &amp; safe&gt;" in page
    assert page.count("<svg") == 4  # time and speedup charts for each measured rule
    assert 'href="#rule-PFL101"' in page and 'id="rule-PFL101"' in page


def test_report_loads_without_errors_and_its_charts_render_in_chromium(tmp_path):
    chromium = _chromium()
    page = render_html_report(_report())
    probed = page.replace("<head>", "<head>" + _ERROR_RECORDER, 1).replace("</body>", _LAYOUT_PROBE + "</body>", 1)
    path = tmp_path / "report.html"
    path.write_text(probed, encoding="utf-8")
    completed = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", "--virtual-time-budget=5000", "--dump-dom", path.as_uri()],
        capture_output=True, text=True, timeout=120)
    match = re.search(r'<pre id="layout-probe">(.*?)</pre>', completed.stdout, re.S)
    assert match, f"the page did not finish loading in Chromium:\n{completed.stderr[-2000:]}"
    layout = json.loads(html.unescape(match.group(1)))
    assert layout["errors"] == []
    assert layout["resources"] == []  # nothing fetched
    assert len(layout["charts"]) == 4
    for chart in layout["charts"]:
        assert chart["width"] > 100 and chart["height"] > 100, chart
        assert chart["marks"] >= 4 and chart["drawn"], chart
