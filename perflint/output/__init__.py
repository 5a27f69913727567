"""Output formats of ``perflint check``: concise, full, json, sarif, github and openmetrics.

Each format lives in its own module and is imported only when chosen. Findings are written in
path, line, column, code order whatever order they arrive in, so output is reproducible; under
``--profile``, hottest first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TextIO

from perflint.engine.findings import Finding
from perflint.measure.results import MeasurementReport
from perflint.output.common import count_by_code, ranking_key

OUTPUT_FORMATS = ("concise", "full", "json", "sarif", "github", "openmetrics")


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except ValueError:
        return False


def write_report(
    findings: Sequence[Finding],
    output_format: str,
    stream: TextIO,
    *,
    files_checked: int,
    statistics: bool = False,
    measurement: MeasurementReport | None = None,
    color: bool | None = None,
    fixed: int | None = None,
    unsafe_fixes: bool = False,
    buffers: Mapping[str, bytes | None] | None = None,
) -> None:
    """Write ``findings`` to ``stream`` in ``output_format``.

    ``statistics`` adds a count per code (text formats and json; sarif has no place for it).
    ``measurement`` adds the measured costs: a table after the summary in concise and full, the
    ``machine`` and ``measurements`` keys in json. ``color=None`` colours only a terminal.
    ``fixed`` is how many fixes ``--fix`` applied (None: not fixing); ``unsafe_fixes`` counts
    unsafe fixes as fixable. ``buffers`` holds, by reported path, the bytes of sources that are
    not the file on disk (standard input), for ``full`` to show their lines; None for a
    source whose text is not at hand, so that no line is shown rather than the disk's.
    """
    if output_format not in OUTPUT_FORMATS:
        raise ValueError(f"unknown output format {output_format!r}; expected one of {', '.join(OUTPUT_FORMATS)}")
    _write_undecodable_names_back_as_bytes(stream)
    ordered = sorted(findings, key=ranking_key)
    counts = count_by_code(ordered) if statistics else None
    if output_format in ("concise", "full"):
        from perflint.output.text import write_text

        use_color = _is_terminal(stream) if color is None else color
        write_text(
            ordered,
            stream,
            full=output_format == "full",
            files_checked=files_checked,
            statistics=counts,
            color=use_color,
            color_forced=color is True,
            fixed=fixed,
            unsafe_fixes=unsafe_fixes,
            buffers=buffers,
        )
        if measurement is not None:
            from perflint.measure.table import render_table

            stream.write("\n")
            render_table(
                measurement,
                stream,
                use_color,
                detailed=output_format == "full",
                occurrences={count.code: count.count for count in count_by_code(ordered)},
                run_shares=_hottest_share_per_code(ordered),
                evidence_sizes=largest_size_per_code(ordered),
            )
    elif output_format == "json":
        from perflint.output.json_report import write_json

        write_json(ordered, stream, statistics=counts, measurement=measurement, fixed=fixed)
    elif output_format == "openmetrics":
        from perflint.output.openmetrics import write_check_metrics

        write_check_metrics(ordered, stream, files_checked=files_checked)
    elif output_format == "sarif":
        from perflint.output.sarif import write_sarif

        write_sarif(ordered, stream)
    else:
        from perflint.output.github import write_github
        from perflint.output.text import PlainWriter, write_statistics

        write_github(ordered, stream)
        if counts:
            write_statistics(PlainWriter(stream), counts)


def _write_undecodable_names_back_as_bytes(stream: TextIO) -> None:
    """A file name that is not valid in the file system's encoding reaches the findings with
    surrogate escapes (as ``os.listdir`` gives it); written back with ``surrogateescape`` it
    comes out as the bytes it has on disk, instead of failing the whole report."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None and getattr(stream, "errors", None) == "strict":
        reconfigure(errors="surrogateescape")


def largest_size_per_code(findings: Sequence[Finding]) -> dict[str, int]:
    """The largest size the code states among each rule's findings (``Finding.size``): the
    instance whose fix saves most, as a benchmark's saving grows with its size, and so the one
    that ranks the rule for ``--measure``. Rules none of whose findings state a size are left out."""
    sizes: dict[str, int] = {}
    for finding in findings:
        if finding.size is not None:
            sizes[finding.code] = max(sizes.get(finding.code, 0), finding.size)
    return sizes


def _hottest_share_per_code(findings: Sequence[Finding]) -> dict[str, float] | None:
    """Under ``--profile``, the largest share of the run among each rule's findings."""
    shares: dict[str, float] = {}
    for finding in findings:
        if finding.profile is not None:
            shares[finding.code] = max(shares.get(finding.code, 0.0), finding.profile.share)
    return shares or None
