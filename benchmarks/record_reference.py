"""Record the reference ``perflint bench`` run of this machine, which the rule pages quote.

One command: ``python benchmarks/record_reference.py``. It runs the full ``perflint bench``
(every rule, every size, every target this machine has) exactly as a user would, and writes

- ``benchmarks/results/reference_bench.json``: the JSON output, machine description included;
- ``benchmarks/results/reference_bench.html``: the ``--report`` page with the charts;
- ``benchmarks/results/reference_bench.txt``: the table, and how long the run took.

The BLAS and OpenMP pools and torch's CPU threads are limited to one (``--blas-threads 1``,
recorded in the machine description): on the shared two-core machine the reference comes
from, a two-thread OpenBLAS stalls for seconds whenever another process takes a core (a 128x128 inverse loop: median 151 ms
and worst 5.1 s with two threads, against 22 ms and 44 ms with one), which would make the
reference a measurement of the neighbours. ``--blas-threads 0`` keeps the BLAS default.

Then ``python scripts/generate_docs.py`` puts the new numbers in ``docs/rules/*.md``. On a machine
with a GPU, ``--name reference_bench_gpu`` records beside the CPU reference without replacing it.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="reference_bench", help="file name stem under benchmarks/results/")
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="BLAS, OpenMP and torch CPU threads while measuring (0: their defaults)",
    )
    parser.add_argument("codes", nargs="*", help="only these rules (default: all)")
    arguments = parser.parse_args()
    json_path, html_path, text_path = (RESULTS / f"{arguments.name}{suffix}" for suffix in (".json", ".html", ".txt"))
    threads = ["--blas-threads", str(arguments.blas_threads)] if arguments.blas_threads else []
    command = [
        sys.executable,
        "-m",
        "perflint",
        "bench",
        *arguments.codes,
        *threads,
        "--output-format",
        "json",
        "--report",
        str(html_path),
    ]
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        return result.returncode
    data = json.loads(result.stdout)
    json_path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")

    from perflint.measure.results import MeasurementReport
    from perflint.measure.table import render_table

    table = io.StringIO()
    render_table(MeasurementReport.from_dict(data), table, color=False, detailed=True)
    shown = " ".join(["perflint", *command[3:-1], html_path.name])
    text_path.write_text(
        f"Reference run, {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}: `{shown}`\n"
        f"Wall time: {elapsed:.1f} s\n\n{table.getvalue()}",
        encoding="utf-8",
    )
    print(
        f"wrote {json_path}, {html_path} and {text_path} ({elapsed:.1f} s); now run `python scripts/generate_docs.py`"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
