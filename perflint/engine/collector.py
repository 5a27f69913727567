"""Python's cycle collector paused around work that allocates many objects but leaves no
garbage cycles behind: the collections those allocations set off would walk every object
the process holds (the syntax trees, the project index) and find nothing to free.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cycle collector off inside the block, back to its former state after it.
    Reference counting frees what the block drops, as before."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
