"""Human-friendly numbers for measured times and speedups."""

from __future__ import annotations

_TIME_UNITS = ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns"))


def format_seconds(seconds: float) -> str:
    """Three significant digits in the largest unit that keeps the number at least 1."""
    rounded = float(f"{seconds:.3g}")
    scale, unit = next(((scale, unit) for scale, unit in _TIME_UNITS if rounded >= scale), _TIME_UNITS[-1])
    value = rounded / scale
    decimals = 2 if value < 10 else 1 if value < 100 else 0
    return f"{value:.{decimals}f} {unit}"


def format_saved(seconds: float) -> str:
    """A time saved per call; a negative one (the fix is slower) keeps its sign: ``−1.20 ms``."""
    return f"−{format_seconds(-seconds)}" if seconds < 0 else format_seconds(seconds)


def format_speedup(speedup: float) -> str:
    """``143x``, ``12x``, ``2.3x``, ``0.8x`` (a fix slower than the pattern stays visible)."""
    if speedup >= 10:
        return f"{speedup:,.0f}x"
    if speedup >= 0.1:
        return f"{speedup:.1f}x"
    return f"{speedup:.2g}x"


def format_bytes(count: int) -> str:
    """Memory sizes in binary units (GiB), as operating systems report them."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.1f} {unit}" if unit != "B" else f"{count} B"
        value /= 1024
    return f"{value:.1f} TiB"


def format_size(size: int) -> str:
    """Round sizes short (``1k``, ``100k``, ``2M``), the rest exact with separators (``4,096``)."""
    for divisor, suffix in ((1_000_000, "M"), (1_000, "k")):
        if size >= divisor and size % divisor == 0:
            return f"{size // divisor:,}{suffix}"
    return f"{size:,}"


def format_timestamp(timestamp: str | None) -> str:
    """``2026-11-29T17:40:00+00:00`` as ``2026-11-29 17:40:00 UTC``."""
    return timestamp.replace("T", " ").replace("+00:00", " UTC") if timestamp else "at an unknown time"
