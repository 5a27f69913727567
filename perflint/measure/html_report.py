"""``perflint bench --report FILE.html``: one self-contained page to read and to pass around.

No script and nothing fetched: styles are inline and the charts are SVG drawn here, so the
page opens the same offline, in a mail attachment or in a CI artifact viewer. Per rule and
target it shows the pattern's and the fix's time against size (log–log, the x axis in the
benchmark's own unit), the speedup with its 95% interval against size with the crossover
marked, the time saved per call, the source of the pattern and the fix as timed, and the
rule's own description with its Markdown rendered. The machine section holds the machine and
how the run was taken (perflint's version, command line, worker processes, threads in use,
load, frequency scaling).
"""

from __future__ import annotations

import datetime
import html
import inspect
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

from perflint.measure.results import (
    MEASURED,
    PAYS_FROM,
    TOO_FEW_SAMPLES,
    Measurement,
    MeasurementReport,
    crossover_size,
    measured_value,
)
from perflint.measure.table import machine_summary, ranking_note, run_conditions, saved_cell, summary_rows
from perflint.measure.units import (
    format_bytes,
    format_saved,
    format_seconds,
    format_size,
    format_speedup,
    format_timestamp,
)

if TYPE_CHECKING:
    from perflint.engine.rule import Rule

CHART_WIDTH = 440
CHART_HEIGHT = 260
_MARGIN = {"left": 80, "right": 16, "top": 16, "bottom": 44}
PATTERN_COLOUR = "#c0392b"
FIX_COLOUR = "#1f6fb2"
SPEEDUP_COLOUR = "#1e8449"

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1000px;
       color: #222; line-height: 1.45; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2.2rem; border-top: 1px solid #ddd; padding-top: 1rem; }
table { border-collapse: collapse; margin: .6rem 0; font-size: .9rem; }
th, td { border-bottom: 1px solid #e4e4e4; padding: .25rem .7rem; text-align: left; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; }
.charts figure { margin: 0; } figcaption { font-size: .85rem; color: #555; }
svg text { font-size: 11px; fill: #333; } .note { color: #8a5a00; } .muted { color: #666; font-size: .9rem; }
pre { background: #f6f6f6; padding: .6rem; overflow-x: auto; font-size: .85rem; }
code { background: #f3f3f3; padding: 0 .2rem; border-radius: 3px; font-size: .9em; }
.flag { color: #a33; }
"""
# A figure as wide as its chart, so that a long caption wraps instead of pushing the charts apart.
_STYLE += f".charts figure {{ width: {CHART_WIDTH}px; }}\n"


def write_html_report(report: MeasurementReport, path: str | Path) -> None:
    """Write the page for ``report`` to ``path`` (UTF-8, overwriting)."""
    Path(path).write_text(render_html_report(report), encoding="utf-8")


def render_html_report(report: MeasurementReport) -> str:
    from perflint.rules import rule_by_code

    generated = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>perflint benchmark report</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>perflint benchmark report</h1>",
        f'<p class="muted">Generated {generated}. Each rule\'s micro-benchmark times the flagged pattern '
        "against its fix on generated inputs, at several sizes; the numbers describe the pattern in "
        "isolation on this machine, not any particular program.</p>",
        '<h2 id="machine">Machine</h2>',
        f"<p>{_escape(machine_summary(report.machine))}</p>",
        _machine_table(report.machine),
        _run_table(report),
        '<h2 id="summary">Summary</h2>',
        _summary_table(report),
        f'<p class="muted">{_escape(ranking_note(summary_rows(report)))} A speedup marked ? has a 95% interval '
        "that crosses 1.0 or spans more than ±25%; one marked ! was measured under a stall or on a loaded "
        "machine and is not to be trusted as it stands.</p>",
    ]
    skipped = [m for m in report.measurements if m.status != MEASURED]
    if skipped:
        parts.append(
            '<p class="note">Not measured here: '
            + "; ".join(_escape(f"{m.code} {m.target} ({m.reason})") for m in skipped)
            + ".</p>"
        )
    for measurement in report.measurements:
        if measurement.status == MEASURED:
            parts.append(_measurement_section(measurement, rule_by_code(measurement.code)))
    parts.append('<h2 id="rules">The rules</h2>')
    for code in dict.fromkeys(m.code for m in report.measurements):
        rule = rule_by_code(code)
        if rule is not None:
            parts.append(_rule_description(rule))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _escape(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _machine_table(machine: dict[str, Any]) -> str:
    rows = []
    for key, value in machine.items():
        if key in ("gpus", "blas", "libraries"):
            continue
        shown = format_bytes(value) if key == "memory_bytes" and value else value
        rows.append((key, shown))
    for name, version in (machine.get("libraries") or {}).items():
        rows.append((f"{name} version", version or "not installed"))
    for blas in machine.get("blas") or []:
        threads = blas.get("threads")
        rows.append(
            (
                "BLAS",
                f"{blas.get('library')} {blas.get('version')}, "
                f"{threads} thread{'' if threads == 1 else 's'}, {blas.get('architecture')}",
            )
        )
    for gpu in machine.get("gpus") or []:
        details = ", ".join(f"{key} {value}" for key, value in gpu.items() if key not in ("index", "name"))
        rows.append((f"GPU {gpu.get('index')}", f"{gpu.get('name')}: {details}"))
    if not machine.get("gpus"):
        rows.append(("GPUs", "none seen by NVML"))
    body = "".join(f"<tr><th>{_escape(key)}</th><td>{_escape(value)}</td></tr>" for key, value in rows)
    return f"<table>{body}</table>"


def _run_table(report: MeasurementReport) -> str:
    """How the numbers were taken: what ``bench --compare`` needs to know about two runs."""
    run = report.run
    if not run:
        return ""
    rows = [
        ("perflint version", run.get("perflint_version")),
        ("command line", " ".join(run.get("command_line") or []) or "not recorded"),
        ("conditions", run_conditions(report)),
    ]
    used = run.get("threads_used") or {}
    for pool in used.get("pools") or []:
        rows.append(
            (
                f"thread pool {pool.get('library')}",
                f"{pool.get('threads')} threads ({pool.get('api')}, version {pool.get('version')})",
            )
        )
    if used.get("torch") is not None:
        rows.append(("torch CPU threads", used["torch"]))
    body = "".join(f"<tr><th>{_escape(key)}</th><td>{_escape(value)}</td></tr>" for key, value in rows)
    return f'<h3>How this run was taken</h3><table id="run">{body}</table>'


def _summary_table(report: MeasurementReport) -> str:
    from perflint.measure.table import speedup_cell

    rows = []
    for measurement in summary_rows(report):
        anchor = _anchor(measurement) if measurement.status == MEASURED else f"rule-{measurement.code}"
        note = measurement.payoff() if measurement.status == MEASURED else f"{measurement.status}: {measurement.reason}"
        rows.append(
            f'<tr><td><a href="#{anchor}">{_escape(measurement.code)}</a></td>'
            f"<td>{_escape(measurement.target)}</td><td>{_escape(speedup_cell(measurement))}</td>"
            f'<td class="number">{_escape(saved_cell(measurement))}</td><td>{_escape(note)}</td></tr>'
        )
    return (
        '<table id="summary-table"><tr><th>Rule</th><th>Target</th><th>Speedup at each size</th>'
        "<th>Saved per call</th><th>Note</th></tr>" + "".join(rows) + "</table>"
    )


def _anchor(measurement: Measurement) -> str:
    return f"{measurement.code}-{measurement.library}-{measurement.device}"


def _measurement_section(measurement: Measurement, rule: type[Rule] | None) -> str:
    summary = rule.summary if rule is not None else measurement.name
    points = measurement.measured_points
    sizes = [point.size for point in points]
    unit = measurement.size_unit or "size"
    crossover = crossover_size(points)
    time_chart = log_log_chart(
        sizes,
        [
            ("pattern", [p.pattern_seconds for p in points], PATTERN_COLOUR, None),
            ("fix", [p.fix_seconds for p in points], FIX_COLOUR, None),
        ],
        y_label="seconds per call",
        y_format=format_seconds,
        title=f"{measurement.code}: time per call against size",
        x_label=unit,
        crossover=crossover,
    )
    speedup_chart = log_log_chart(
        sizes,
        [("speedup", [p.speedup for p in points], SPEEDUP_COLOUR, [(p.speedup_low, p.speedup_high) for p in points])],
        y_label="speedup (pattern ÷ fix)",
        y_format=format_speedup,
        reference_line=PAYS_FROM,
        title=f"{measurement.code}: speedup against size",
        x_label=unit,
        crossover=crossover,
    )
    rows = []
    for point in measurement.points:
        if point.status != MEASURED:
            label = "too few samples" if point.status == TOO_FEW_SAMPLES else "skipped"
            rows.append(
                f'<tr><td class="number">{point.size:,}</td><td colspan="7">{label}: {_escape(point.reason)}</td></tr>'
            )
            continue
        flags = "".join(f'<div class="flag">{_escape(flag)}</div>' for flag in point.flags)
        rows.append(
            f'<tr><td class="number">{point.size:,}</td>'
            f'<td class="number">{format_seconds(measured_value(point.pattern_seconds))}</td>'
            f'<td class="number">{format_seconds(measured_value(point.fix_seconds))}</td>'
            f'<td class="number">{format_speedup(measured_value(point.speedup))}</td>'
            f'<td class="number">{format_speedup(measured_value(point.speedup_low))}–'
            f"{format_speedup(measured_value(point.speedup_high))}"
            f"{' (noisy)' if point.noisy else ''}</td>"
            f'<td class="number">{_escape(format_saved(measured_value(point.time_saved)))}</td>'
            f'<td class="number">{_escape(_saved_interval(point))}</td>'
            f'<td class="number">{point.samples} from {point.workers} processes{flags}</td></tr>'
        )
    return (
        f'<h2 id="{_anchor(measurement)}">{_escape(measurement.code)} {_escape(measurement.name)} '
        f"on {_escape(measurement.target)}</h2>"
        f'<p><a href="#rule-{_escape(measurement.code)}">{render_markdown_inline(summary)}</a>. '
        f"<strong>{_escape(measurement.payoff().capitalize())}</strong> (sizes in {_escape(measurement.size_unit)}; "
        f"measured {_escape(format_timestamp(measurement.measured_at))}"
        f"{', from the cache' if measurement.cached else ''}).</p>"
        f'<div class="charts"><figure>{time_chart}<figcaption>Median time per call: '
        f'<span style="color:{PATTERN_COLOUR}">pattern</span> and <span style="color:{FIX_COLOUR}">fix</span>'
        f"</figcaption></figure><figure>{speedup_chart}<figcaption>Speedup with its 95% interval; the dashed "
        f"line is {PAYS_FROM}x, below which the fix does not pay"
        f"{'; the dotted vertical line marks the crossover' if crossover else ''}</figcaption></figure></div>"
        "<table><tr><th>Size</th><th>Pattern</th><th>Fix</th><th>Speedup</th><th>95% interval</th>"
        "<th>Saved per call</th><th>95% interval</th><th>Samples</th></tr>"
        + "".join(rows)
        + "</table>"
        + _timed_source(measurement, rule)
    )


def _saved_interval(point: Any) -> str:
    if point.saved_low is None or point.saved_high is None:
        return "—"
    return f"{format_saved(point.saved_low)} to {format_saved(point.saved_high)}"


def _timed_source(measurement: Measurement, rule: type[Rule] | None) -> str:
    """What one call of each side does, in words and as the functions the harness timed."""
    benchmark = getattr(rule, "benchmark", None)
    if benchmark is None:
        return ""
    parts = [
        f'<details class="timed" open><summary>What is timed</summary><p>{render_markdown_inline(benchmark.timed)}</p>'
    ]
    for label, function in (("Pattern", benchmark.pattern), ("Fix", benchmark.fix)):
        try:
            source = inspect.getsource(function)
        except (OSError, TypeError):
            source = f"{getattr(function, '__qualname__', function)} (source not available)"
        shown = "as checked (never timed)" if benchmark.not_timed else "as timed"
        parts.append(f'<p>{label}, {shown}:</p><pre class="source">{_escape(source.rstrip())}</pre>')
    return "".join(parts) + "</details>"


def render_markdown_inline(text: str) -> str:
    """The inline Markdown rule texts use (`code`, **bold**), as HTML; everything else escaped."""
    escaped = _escape(text)
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", escaped)


def _rule_description(rule: type[Rule]) -> str:
    return (
        f'<details id="rule-{_escape(rule.code)}"><summary><strong>{_escape(rule.code)}</strong> '
        f"{_escape(rule.name)}: {render_markdown_inline(rule.summary)}</summary>"
        f"<p>{render_markdown_inline(rule.what_it_does)}</p><p>{render_markdown_inline(rule.why_bad)}</p>"
        f"<p>Example:</p><pre>{_escape(rule.example.strip())}</pre>"
        f"<p>{render_markdown_inline(rule.fix_title)}:</p><pre>{_escape(rule.use_instead.strip())}</pre></details>"
    )


# A series: its label, a value per size (None or 0: none drawn), its colour, and an optional interval per size.
Series = tuple[str, Sequence[Optional[float]], str, Optional[Sequence[tuple[Optional[float], Optional[float]]]]]


def log_log_chart(
    sizes: Sequence[int],
    series: Sequence[Series],
    y_label: str,
    y_format: Callable[[float], str],
    title: str,
    reference_line: float | None = None,
    x_label: str = "size",
    crossover: float | None = None,
) -> str:
    """An SVG chart of each series against size, both axes logarithmic, the x axis labelled with
    ``x_label`` (the size unit). A series may carry an interval per point, drawn as a vertical
    bar; ``reference_line`` draws a dashed horizontal and ``crossover`` a dotted vertical line."""
    plot_left, plot_top = _MARGIN["left"], _MARGIN["top"]
    plot_width = CHART_WIDTH - _MARGIN["left"] - _MARGIN["right"]
    plot_height = CHART_HEIGHT - _MARGIN["top"] - _MARGIN["bottom"]
    values = [value for _, ys, _, _ in series for value in ys if value and value > 0]
    for _, _, _, intervals in series:
        values.extend(bound for pair in intervals or () for bound in pair if bound and bound > 0)
    if reference_line:
        values.append(reference_line)
    x_low, x_high = _padded_log_range(sizes)
    y_low, y_high = _padded_log_range(values)

    def x_of(size: float) -> float:
        return plot_left + (math.log10(size) - x_low) / (x_high - x_low) * plot_width

    def y_of(value: float) -> float:
        return plot_top + plot_height - (math.log10(value) - y_low) / (y_high - y_low) * plot_height

    elements = [
        f'<rect x="{plot_left}" y="{plot_top}" width="{plot_width}" height="{plot_height}" '
        'fill="#fbfbfb" stroke="#bbb"/>'
    ]
    for tick in _log_ticks(x_low, x_high):
        x = x_of(tick)
        elements.append(
            f'<line x1="{x:.1f}" y1="{plot_top}" x2="{x:.1f}" y2="{plot_top + plot_height}" stroke="#e3e3e3"/>'
        )
        elements.append(
            f'<text x="{x:.1f}" y="{plot_top + plot_height + 15}" text-anchor="middle">'
            f"{_escape(format_size(int(tick)) if tick >= 1 else f'{tick:g}')}</text>"
        )
    for tick in _log_ticks(y_low, y_high):
        y = y_of(tick)
        elements.append(
            f'<line x1="{plot_left}" y1="{y:.1f}" x2="{plot_left + plot_width}" y2="{y:.1f}" stroke="#e3e3e3"/>'
        )
        elements.append(f'<text x="{plot_left - 6}" y="{y + 4:.1f}" text-anchor="end">{_escape(y_format(tick))}</text>')
    if reference_line:
        y = y_of(reference_line)
        elements.append(
            f'<line x1="{plot_left}" y1="{y:.1f}" x2="{plot_left + plot_width}" y2="{y:.1f}" '
            'stroke="#888" stroke-dasharray="5 4"/>'
        )
    if crossover:
        x = x_of(crossover)
        elements.append(
            f'<line class="crossover" x1="{x:.1f}" y1="{plot_top}" x2="{x:.1f}" '
            f'y2="{plot_top + plot_height}" stroke="#7a4a00" stroke-dasharray="2 3" stroke-width="1.5">'
            f"<title>crossover at ~{crossover:,.0f}</title></line>"
        )
        elements.append(
            f'<text class="crossover-label" x="{x + 4:.1f}" y="{plot_top + 12}" fill="#7a4a00">'
            f"crossover ~{_escape(format_size(int(round(crossover))))}</text>"
        )
    for label, ys, colour, intervals in series:
        pairs = [(x_of(size), y_of(value)) for size, value in zip(sizes, ys) if value and value > 0]
        if len(pairs) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pairs)
            elements.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2">'
                f"<title>{_escape(label)}</title></polyline>"
            )
        for index, (size, value) in enumerate(zip(sizes, ys)):
            if not value or value <= 0:
                continue
            low, high = intervals[index] if intervals else (None, None)
            if low and high:
                elements.append(
                    f'<line x1="{x_of(size):.1f}" y1="{y_of(low):.1f}" x2="{x_of(size):.1f}" '
                    f'y2="{y_of(high):.1f}" stroke="{colour}" stroke-width="1.5"/>'
                )
            elements.append(
                f'<circle cx="{x_of(size):.1f}" cy="{y_of(value):.1f}" r="3.5" fill="{colour}">'
                f"<title>{_escape(label)} at {size:,}: {_escape(y_format(value))}</title></circle>"
            )
    elements.append(
        f'<text class="x-label" x="{plot_left + plot_width / 2:.1f}" y="{CHART_HEIGHT - 8}" '
        f'text-anchor="middle">{_escape(_short_unit(x_label))}</text>'
    )
    elements.append(
        f'<text transform="translate(14 {plot_top + plot_height / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle">{_escape(y_label)}</text>'
    )
    return (
        f'<svg width="{CHART_WIDTH}" height="{CHART_HEIGHT}" '
        f'viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" role="img" aria-label="{_escape(title)}">'
        f"<title>{_escape(title)}</title>" + "".join(elements) + "</svg>"
    )


def _short_unit(unit: str, limit: int = 60) -> str:
    """The size unit, cut to fit under a chart (the section's text gives it in full)."""
    return unit if len(unit) <= limit else unit[: limit - 1].rstrip() + "…"


def _padded_log_range(values: Sequence[float]) -> tuple[float, float]:
    """log10 bounds out to the whole decades around the values, so that every value, however small
    (a fix twenty times slower reads 0.05x), lies between two labelled ticks."""
    low, high = math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))
    if high - low < 1:
        high = low + 1
    return low - 0.05, high + 0.05


def _log_ticks(low: float, high: float) -> list[float]:
    """Powers of ten in range; with fewer than three, 2x and 5x multiples too."""
    decades = range(math.floor(low), math.ceil(high) + 1)
    ticks = [10.0**power for power in decades if low <= power <= high]
    if len(ticks) < 3:
        ticks = sorted(
            multiple * 10.0**power
            for power in decades
            for multiple in (1, 2, 5)
            if low <= math.log10(multiple * 10.0**power) <= high
        )
    return ticks
