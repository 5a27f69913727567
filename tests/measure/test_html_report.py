"""The HTML report opened in a real browser: it loads without errors, fetches nothing, and its
charts render with real size. Skips when Chromium is absent (``.ci/run`` installs Debian's)."""

from __future__ import annotations

import html
import json
import re
import shutil
import struct
import subprocess

import pytest

from perflint.measure.html_report import render_html_report
from perflint.measure.results import MEASURED, SKIPPED, Measurement, MeasurementReport, Point

# Added by the test only: the report itself carries no script. The first records errors from
# the moment the page starts; the second, at load, writes what the browser laid out.
_ERROR_RECORDER = (
    "<script>window.__errors = []; window.addEventListener('error', "
    "event => window.__errors.push(String(event.message)));</script>"
)
_LAYOUT_PROBE = """<script>window.addEventListener('load', () => {
  const charts = [...document.querySelectorAll('svg')].map(svg => {
    const box = svg.getBoundingClientRect();
    return {width: box.width, height: box.height, marks: svg.querySelectorAll('circle, polyline').length,
            drawn: [...svg.querySelectorAll('circle')].every(mark => mark.getBoundingClientRect().width > 0)};
  });
  const probe = document.createElement('pre');
  probe.id = 'layout-probe';
  const texts = selector => [...document.querySelectorAll(selector)].map(element => element.textContent);
  probe.textContent = JSON.stringify({charts: charts, errors: window.__errors,
                                      resources: performance.getEntriesByType('resource').map(r => r.name),
                                      xLabels: texts('svg text.x-label'), crossovers: texts('svg text.crossover-label'),
                                      yTicks: texts('svg text[text-anchor="end"]'),
                                      summaryRows: document.querySelectorAll('#summary-table tr').length,
                                      runRows: document.querySelectorAll('#run tr').length,
                                      sources: texts('pre.source').length,
                                      ruleCode: document.querySelectorAll('details[id^="rule-"] code').length});
  document.body.appendChild(probe);
});</script>"""


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("Chromium is not installed (.ci/run installs Debian's chromium package)")


def _report() -> MeasurementReport:
    def point(size, pattern, fix, **changes):
        return Point(
            size=size,
            pattern_seconds=pattern,
            fix_seconds=fix,
            speedup=pattern / fix,
            speedup_low=0.9 * pattern / fix,
            speedup_high=1.1 * pattern / fix,
            samples=15,
            workers=3,
            saved_low=0.9 * (pattern - fix),
            saved_high=1.1 * (pattern - fix),
            **changes,
        )

    return MeasurementReport(
        machine={
            "cpu_model": "Test CPU",
            "logical_cores": 2,
            "memory_bytes": 2**30,
            "gpus": [
                {
                    "index": 0,
                    "name": "NVIDIA H100",
                    "memory_bytes": 80 * 2**30,
                    "driver_version": "550.54",
                    "pcie_generation": 5,
                    "pcie_width": 16,
                }
            ],
            "blas": [{"library": "openblas", "version": "0.3.27", "threads": 1, "architecture": "Zen"}],
            "fingerprint": "0123456789ab",
        },
        measurements=[
            # The fix is twenty times slower at the smallest size: the axis must still read there.
            Measurement(
                code="PFL101",
                name="elementwise-index-loop",
                backend="array",
                library="numpy",
                device="cpu",
                status=MEASURED,
                size_unit="elements",
                points=(
                    point(1_000, 7e-6, 1.4e-4),
                    point(10_000, 7e-3, 3e-5),
                    point(100_000, 7e-2, 3e-4, flags=("machine loaded (load average 7.0 on 2 cores)",)),
                ),
                measured_at="2026-11-29T17:00:00+00:00",
            ),
            Measurement(
                code="PFL401",
                name="loop-invariant-expensive-call",
                backend="array",
                library="numpy",
                device="cpu",
                status=MEASURED,
                size_unit="rows and columns (32 right-hand sides)",
                points=(point(8, 0.8e-4, 1e-4), point(32, 2e-4, 1e-4), point(128, 2e-3, 1e-4)),
                measured_at="2026-11-29T17:00:00+00:00",
            ),
            Measurement(
                code="PFL201",
                name="create-then-move",
                backend="torch",
                library="torch",
                device="cuda",
                status=SKIPPED,
                reason="no CUDA device <escaped & safe>",
            ),
        ],
        run={
            "perflint_version": "0.1.0",
            "command_line": ["perflint", "bench", "PFL101", "PFL401", "PFL201"],
            "policy": {"workers": 3, "samples": 5},
            "threads_requested": 1,
            "threads_used": {
                "requested": 1,
                "pools": [{"library": "openblas", "api": "blas", "version": "0.3.27", "threads": 1}],
                "torch": None,
            },
            "load_average_start": 1.2,
            "load_average_end": 1.4,
            "frequency_scaling": {"governor": None, "current_mhz": None, "max_mhz": None, "scaling": None},
        },
    )


def test_report_is_self_contained():
    page = render_html_report(_report())
    assert "<script" not in page
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#)""", page), "every link stays inside the page"
    assert "http://" not in page and "https://" not in page
    assert "no CUDA device &lt;escaped &amp; safe&gt;" in page
    assert page.count("<svg") == 4  # time and speedup charts for each measured rule
    assert 'href="#rule-PFL101"' in page and 'id="rule-PFL101"' in page


def test_report_shows_units_crossover_time_saved_timed_source_and_the_run():
    page = render_html_report(_report())
    assert page.count('class="x-label"') == 4 and ">rows and columns (32 right-hand sides)<" in page
    assert page.count('class="crossover"') == 4  # both charts of both rules (PFL101 crosses 1.1x too)
    assert "0.05x" in page  # a fix twenty times slower, readable on the axis and in the table
    assert "Saved per call" in page and "6.97 ms" in page
    assert "xp.linalg.inv(matrix) @ vectors[k]" in page  # PFL401's pattern as timed
    assert "<code>xp.sqrt(a[i]) * 2 + b[i]</code>" in page  # its words, Markdown rendered
    rules_section = page[page.index('id="rules"') :]
    assert "`" not in re.sub(r"<pre>.*?</pre>", "", rules_section, flags=re.S)  # no literal Markdown backticks
    for expected in (
        "perflint bench PFL101 PFL401 PFL201",
        "in use: openblas 1",
        "NVIDIA H100",
        "pcie_generation 5",
        "CPU frequency scaling not readable",
        "machine loaded (load average 7.0 on 2 cores)",
    ):
        assert expected in page, expected


@pytest.mark.slow  # a browser run: CI's
def test_report_loads_without_errors_and_its_charts_render_in_chromium(tmp_path):
    chromium = _chromium()
    page = render_html_report(_report())
    probed = page.replace("<head>", "<head>" + _ERROR_RECORDER, 1).replace("</body>", _LAYOUT_PROBE + "</body>", 1)
    path = tmp_path / "report.html"
    path.write_text(probed, encoding="utf-8")
    completed = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--virtual-time-budget=5000",
            "--dump-dom",
            path.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    match = re.search(r'<pre id="layout-probe">(.*?)</pre>', completed.stdout, re.S)
    assert match, f"the page did not finish loading in Chromium:\n{completed.stderr[-2000:]}"
    layout = json.loads(html.unescape(match.group(1)))
    assert layout["errors"] == []
    assert layout["resources"] == []  # nothing fetched
    assert len(layout["charts"]) == 4
    for chart in layout["charts"]:
        assert chart["width"] > 100 and chart["height"] > 100, chart
        assert chart["marks"] >= 4 and chart["drawn"], chart
    assert layout["xLabels"] == [
        "elements",
        "elements",
        "rows and columns (32 right-hand sides)",
        "rows and columns (32 right-hand sides)",
    ]
    assert len(layout["crossovers"]) == 4 and all(label.startswith("crossover ~") for label in layout["crossovers"])
    assert "0.01x" in layout["yTicks"] or "0.05x" in layout["yTicks"] or "0.02x" in layout["yTicks"]
    assert layout["summaryRows"] == 4 and layout["runRows"] >= 4
    assert layout["sources"] == 4 and layout["ruleCode"] > 0


@pytest.mark.slow  # a browser run: CI's
def test_a_screenshot_of_the_report_shows_the_page(tmp_path):
    chromium = _chromium()
    path = tmp_path / "report.html"
    path.write_text(render_html_report(_report()), encoding="utf-8")
    screenshot = tmp_path / "report.png"
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            "--window-size=1100,2400",
            f"--screenshot={screenshot}",
            path.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    data = screenshot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1100, 2400)
    # A blank page compresses to a few kilobytes; text, tables and four charts do not.
    assert len(data) > 40_000, len(data)
