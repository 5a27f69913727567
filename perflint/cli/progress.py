"""A progress bar while benchmarks run, for a person watching a terminal only.

Measuring takes seconds to minutes; a bar says it is working. It goes to stderr, disappears
when done, and is not shown at all when stdout or stderr is piped or the output is JSON, so
nothing of it reaches a file or a machine reader.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from perflint.measure.harness import ProgressCallback


@contextlib.contextmanager
def measuring_progress(enabled: bool) -> Iterator[ProgressCallback | None]:
    """Yields the callback ``measure_rules`` takes, or None when no bar should be shown."""
    if not (enabled and sys.stdout.isatty() and sys.stderr.isatty()):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("measuring {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task("", total=None)

        def advance(done: int, total: int, label: str) -> None:
            progress.update(task, completed=done, total=total, description=label)

        yield advance
