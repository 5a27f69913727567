"""How sure a measured point is: its intervals, its minimum sample count, and signs of a stall.

Samples come from several worker processes, each taking a few rounds of the pattern and the fix
interleaved. Two processes differ in ways one process cannot see (memory layout, where the
allocator's pages landed, which core the scheduler chose), so an interval computed as if all
samples were independent is too narrow: two runs then disagree outside their intervals (an
earlier in-process harness did so on 5 of 41 points). The interval here is a two-level
bootstrap: resample the worker processes, then the rounds within each, so that the spread
between processes widens it as it should.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence

# A distribution-free 95% interval of a median needs at least six samples: the widest one,
# from the smallest to the largest of n samples, covers the median with probability
# 1 - 2 * 0.5**n, which is 93.75% for five samples and 96.9% for six. Fewer samples cannot
# support the interval a point is printed with, so such a point is shown as "too few samples".
MINIMUM_SAMPLES = 6
# One process cannot show how much processes differ, so a point needs two at least.
MINIMUM_WORKERS = 2
# A side whose median is this many times its fastest sample spent most samples slowed down:
# a neighbour's burst, a descheduled thread, a page-fault storm. pyperf warns at 50% from the mean.
STALL_MEDIAN_OVER_MINIMUM = 1.5
# A side that takes at least this long per call, yet no longer at ten times the size or more,
# is suspected of sitting at a scheduler floor rather than doing its work: real constant-cost
# operations (a view, a lookup) take microseconds, not milliseconds.
FLAT_SIDE_MINIMUM_SECONDS = 5e-3
FLAT_SIDE_GROWTH = 1.2

Round = tuple[float, float]  # (pattern seconds per call, fix seconds per call), taken back to back


def pooled_medians(workers: Sequence[Sequence[Round]]) -> tuple[float, float]:
    """The median per-call time of the pattern and of the fix over every worker's rounds."""
    rounds = [pair for worker in workers for pair in worker]
    return statistics.median(p for p, _ in rounds), statistics.median(f for _, f in rounds)


def bootstrap_intervals(
    workers: Sequence[Sequence[Round]], resamples: int = 1000, confidence: float = 0.95, seed: int = 0
) -> tuple[tuple[float, float], tuple[float, float]]:
    """95% percentile intervals of median(pattern) / median(fix) and of median(pattern) −
    median(fix), by resampling workers and then each chosen worker's rounds (pairs stay whole:
    a round's two sides saw the same machine). The seed is fixed: the same samples always give
    the same interval."""
    groups = [list(worker) for worker in workers if worker]
    generator = random.Random(seed)
    ratios, differences = [], []
    for _ in range(resamples):
        drawn: list[Round] = []
        for _ in groups:
            group = groups[generator.randrange(len(groups))]
            drawn.extend(group[generator.randrange(len(group))] for _ in group)
        pattern = statistics.median(p for p, _ in drawn)
        fix = statistics.median(f for _, f in drawn)
        ratios.append(pattern / fix)
        differences.append(pattern - fix)
    return _percentiles(ratios, confidence), _percentiles(differences, confidence)


def _percentiles(values: list[float], confidence: float) -> tuple[float, float]:
    values.sort()
    tail = (1 - confidence) / 2
    return values[int(tail * len(values))], values[min(len(values) - 1, int((1 - tail) * len(values)))]


def too_few(workers: Sequence[Sequence[Round]]) -> str | None:
    """Why the rounds cannot support an interval, or None when they can."""
    count = sum(len(worker) for worker in workers)
    processes = sum(1 for worker in workers if worker)
    if count < MINIMUM_SAMPLES:
        return f"{count} sample{'s' if count != 1 else ''}; a 95% interval of a median needs {MINIMUM_SAMPLES} at least"
    if processes < MINIMUM_WORKERS:
        return f"samples from {processes} worker process; the spread between processes needs {MINIMUM_WORKERS}"
    return None


def stalled_side(label: str, per_call: Sequence[float]) -> str | None:
    """A flag when the side's median is far above its fastest sample."""
    fastest, median = min(per_call), statistics.median(per_call)
    if fastest > 0 and median >= STALL_MEDIAN_OVER_MINIMUM * fastest:
        return f"{label} median is {median / fastest:.1f}x its fastest sample (a stall or a neighbour's burst)"
    return None


def flat_side(label: str, sizes: Sequence[int], seconds: Sequence[float]) -> str | None:
    """A flag when a side's time does not grow with size although it takes milliseconds: the
    signature of a scheduler floor (every call waiting out a descheduled thread), not of work."""
    pairs = sorted(zip(sizes, seconds))
    if len(pairs) < 2:
        return None
    (small_size, small_time), (large_size, large_time) = pairs[0], pairs[-1]
    if large_size < 10 * small_size or small_time < FLAT_SIDE_MINIMUM_SECONDS:
        return None
    if large_time < FLAT_SIDE_GROWTH * small_time:
        return (
            f"{label} time does not grow with size ({small_time * 1e3:.1f} ms at {small_size:,}, "
            f"{large_time * 1e3:.1f} ms at {large_size:,}): a stall floor?"
        )
    return None
